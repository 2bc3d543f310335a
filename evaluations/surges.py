"""The surge rule: a brand receiving unverified ratings far above its expected rate.

A brand's expected ratings per day come from its own history and its peers' (the
public brands of the same domain): the larger of its own mean daily count of
counted ratings over ``SURGE_HISTORY_DAYS``, the peers' median of the same, and
``SURGE_MIN_DAILY``. Taking the larger keeps a quiet new brand from tripping the
rule on its first busy day, while a stuffer who goes slowly still has to stay
near what such a brand normally gets.

If ratings arrived at that rate as a Poisson process, more than ``threshold``
unverified ratings in one day, or more than ``week_threshold`` in the last
``SURGE_WEEK_DAYS`` days, would happen with probability below ``SURGE_ALPHA``;
past either (and past ``SURGE_MIN_COUNT``), the excess is held for a reviewer
rather than counted. The week catches the slow stuffer who stays under the daily
line day after day. Ratings with a rating code never count towards a surge and
are never held by it.
"""

import math
import statistics
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count

from brands.models import Brand
from evaluations import fastpath
from evaluations.models import Evaluation, Surge

# How long the cached per-day counts and "no surge today" stand before they are read again from the database.
COUNT_SECONDS = 60
# How long a known surge's status is kept (every decision deletes it at once).
STATE_SECONDS = 600


@dataclass(frozen=True)
class Expectation:
    expected: float  # ratings per day
    own_rate: float
    peer_rate: float
    threshold: int  # unverified ratings in a day past which the excess is held
    week_threshold: int  # the same over the last SURGE_WEEK_DAYS days, today included


# Above this rate the Poisson law is summed in logarithms' stead by its normal approximation: e**-rate
# underflows to 0 past about 745, and an exact sum starting from it would never reach 1 - alpha.
NORMAL_FROM_RATE = 100.0


def poisson_threshold(rate: float, alpha: float) -> int:
    """The smallest k with P(X > k) ≤ alpha for X ~ Poisson(rate) (for a large rate, its normal approximation)."""
    if rate > NORMAL_FROM_RATE:
        z = statistics.NormalDist().inv_cdf(1.0 - alpha)
        return math.ceil(rate + z * math.sqrt(rate) - 0.5)  # with the continuity correction
    term = math.exp(-rate)  # P(X = 0)
    cumulative = term
    k = 0
    while 1.0 - cumulative > alpha:
        k += 1
        term *= rate / k
        cumulative += term
    return k


def _domain_rates(*, domain: str, today: date) -> dict[int, float]:
    """Mean counted ratings per day over the history window, per public brand of the domain; cached for the day."""
    key = f"surge:rates:{domain}:{today.isoformat()}"
    cached = cache.get(key)
    if cached is not None:
        return {int(pk): rate for pk, rate in cached.items()}
    days = settings.SURGE_HISTORY_DAYS
    brand_ids = list(
        Brand.objects.filter(organization__domain=domain, status__in=Brand.PUBLIC_STATUSES).values_list("pk", flat=True)
    )
    counts = dict(
        Evaluation.objects.filter(
            brand_id__in=brand_ids,
            rated_on__gte=today - timedelta(days=days),
            rated_on__lt=today,
            state=Evaluation.State.COUNTED,
        )
        .values("brand_id")
        .annotate(n=Count("pk"))
        .values_list("brand_id", "n")
    )
    rates = {pk: counts.get(pk, 0) / days for pk in brand_ids}
    cache.set(key, {str(pk): rate for pk, rate in rates.items()}, 3600)
    return rates


def expectation_key(code: str, today: date) -> str:
    return f"surge:expect:{code}:{today.isoformat()}"


def state_key(code: str, today: date) -> str:
    return f"surge:state:{code}:{today.isoformat()}"


def day_count_key(code: str, day: date) -> str:
    return f"surge:n:{code}:{day.isoformat()}"


def _week(today: date) -> list[date]:
    return [today - timedelta(days=back) for back in range(settings.SURGE_WEEK_DAYS)]


def prefetch_keys(code: str, today: date) -> tuple[str, ...]:
    """The cache keys the rule reads for a rating of brand ``code`` today (read with the throttle counters)."""
    return (state_key(code, today), expectation_key(code, today), *(day_count_key(code, day) for day in _week(today)))


_MISSING = object()


def brand_expectation(*, brand: Brand, today: date, prefetched: dict | None = None) -> Expectation:
    """The brand's expected daily ratings and the counts past which its unverified ratings are held.

    Cached for the day: the history it reads does not change until tomorrow.
    """
    key = expectation_key(brand.code, today)
    cached = (prefetched or {}).get(key, _MISSING)
    if cached is _MISSING:
        cached = fastpath.get_json(key)
    if cached is not None:
        return Expectation(*cached)
    domain = Brand.objects.filter(pk=brand.pk).values_list("organization__domain", flat=True).first() or ""
    peers = _domain_rates(domain=domain, today=today)
    own = peers.get(brand.pk, 0.0)
    peer = statistics.median(peers.values()) if peers else 0.0
    expected = max(own, peer, settings.SURGE_MIN_DAILY)
    floor, alpha = settings.SURGE_MIN_COUNT, settings.SURGE_ALPHA
    result = Expectation(
        expected=expected,
        own_rate=own,
        peer_rate=peer,
        threshold=max(floor, poisson_threshold(expected, alpha)),
        week_threshold=max(floor, poisson_threshold(expected * settings.SURGE_WEEK_DAYS, alpha)),
    )
    fastpath.set_json(key, list(result.__dict__.values()), 3600)
    return result


def unverified_recent(*, brand: Brand, today: date, prefetched: dict | None = None) -> tuple[int, int]:
    """Unverified ratings of the brand that count or are held (repeats and rejections aside): today, and
    in the last SURGE_WEEK_DAYS days with today.

    From the cached per-day counts when ``prefetched`` has them all; else one query over the (brand, day)
    index, whose per-day counts are then cached for the next ratings.
    """
    days = _week(today)
    keys = [day_count_key(brand.code, day) for day in days]
    known = [(prefetched or {}).get(key) for key in keys]
    if all(isinstance(count, int) for count in known):
        return known[0], sum(known)
    by_day = dict(
        Evaluation.objects.filter(
            brand_id=brand.pk,
            rated_on__gt=today - timedelta(days=settings.SURGE_WEEK_DAYS),
            rated_on__lte=today,
            verified=False,
            state__in=[Evaluation.State.COUNTED, Evaluation.State.FLAGGED],
        )
        .values("rated_on")
        .annotate(n=Count("pk"))
        .values_list("rated_on", "n")
    )
    for key, day in zip(keys, days, strict=True):
        fastpath.add_json(key, by_day.get(day, 0), COUNT_SECONDS)
    return by_day.get(today, 0), sum(by_day.values())


def count_unverified(*, code: str, day: date) -> None:
    """One more unverified rating of the brand that day was stored (counted or held): bump its cached count."""
    fastpath.incr_if_present(day_count_key(code, day))


UNKNOWN = object()


def known_state(*, code: str, today: date, prefetched: dict | None) -> Surge | None | object:
    """The brand's surge today as cached: a Surge (its id, status and day only), None (no surge), or
    ``UNKNOWN`` when the cache does not say."""
    cached = (prefetched or {}).get(state_key(code, today))
    if cached is None:
        return UNKNOWN
    if not cached:
        return None
    pk, status = cached
    return Surge(pk=pk, day=today, status=status)


def remember_state(*, code: str, today: date, surge: Surge | None) -> None:
    """Cache the brand's surge today (or that it has none: briefly, as the next rating may open one)."""
    if surge is None:
        fastpath.set_json(state_key(code, today), [], COUNT_SECONDS)
    else:
        fastpath.set_json(state_key(code, today), [surge.pk, surge.status], STATE_SECONDS)


def forget_state(*, code: str, today: date) -> None:
    """A surge changed status (a reviewer decided, a rejected one opened again): the next rating reads it anew."""
    cache.delete(state_key(code, today))
