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
from django.db.models import Count, Q

from brands.models import Brand
from evaluations.models import Evaluation


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


def brand_expectation(*, brand: Brand, today: date) -> Expectation:
    """The brand's expected daily ratings and the counts past which its unverified ratings are held.

    Cached for the day: the history it reads does not change until tomorrow.
    """
    key = f"surge:expect:{brand.pk}:{today.isoformat()}"
    cached = cache.get(key)
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
    cache.set(key, list(result.__dict__.values()), 3600)
    return result


def unverified_recent(*, brand: Brand, today: date) -> tuple[int, int]:
    """Unverified ratings of the brand that count or are held (repeats and rejections aside): today, and
    in the last SURGE_WEEK_DAYS days with today; one query over the (brand, day) index."""
    counts = Evaluation.objects.filter(
        brand_id=brand.pk,
        rated_on__gt=today - timedelta(days=settings.SURGE_WEEK_DAYS),
        rated_on__lte=today,
        verified=False,
        state__in=[Evaluation.State.COUNTED, Evaluation.State.FLAGGED],
    ).aggregate(day=Count("pk", filter=Q(rated_on=today)), week=Count("pk"))
    return counts["day"], counts["week"]
