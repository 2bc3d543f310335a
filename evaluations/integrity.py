"""Signals that tell a citizen's rating from abuse: client address, device key, throttles, proof of work.

Nothing here refuses a rating except the throttles (429). Everything else only
produces reasons to flag, so a suspicious rating is stored and left out of
scores until a reviewer looks at it.
"""

import hashlib
import hmac
import ipaddress
import secrets
import time
from dataclasses import dataclass, field
from datetime import timedelta

import altcha
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import Throttled
from evaluations import fastpath

DEVICE_COOKIE = "rater_device"
DEVICE_COOKIE_SALT = "evaluations.device"
DEVICE_COOKIE_MAX_AGE = 400 * 24 * 3600
FORM_TOKEN_SALT = "evaluations.form-started"


@dataclass
class ClientSignals:
    """What the request tells us about who is rating; built by the view or the API, judged by the service."""

    ip: str
    user_agent: str = ""
    device_key: str = ""
    honeypot: str = ""
    # Seconds between showing the form and its submission; None for API clients (no form).
    fill_seconds: float | None = None
    form_token_valid: bool = True
    pow_payload: str = ""
    extra_flags: list[str] = field(default_factory=list)
    # Already counted by the caller (the API counts and reads its brand in one round trip).
    counts: "Counts | None" = None


def client_ip(request) -> str:
    """The client address: REMOTE_ADDR, or the X-Forwarded-For entry added by the outermost trusted proxy.

    Each trusted proxy appends the address it received the request from, so with
    n trusted proxies the client is the n-th entry counted from the right; anything
    further left was written by the client and may be forged.
    """
    remote = request.META.get("REMOTE_ADDR", "") or "0.0.0.0"
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    entries = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(entries) < count:
        return remote
    candidate = entries[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


# Hashes of a client address (alone or with its user agent) are keyed with the day's random secret
# (organizations.DailyHashKey), deleted after EVALUATION_IP_KEY_DAYS days: there are only 2^32 IPv4
# addresses, so a hash under a key that still exists could be reversed by trying them all. What they key
# (throttle and network counters, the device fallback of one rating per device, brand and day, the
# distinct addresses of a surge day) needs them stable within a day only. Other kinds (device cookies,
# rating codes, the proof-of-work key) must stay stable longer and use EVALUATION_HASH_SALT.
ADDRESS_KINDS = frozenset({"ip", "net", "ip-ua"})
_day_secrets: dict = {}  # this process's copy of the day's secret, by day


def _day_secret(day) -> str:
    secret = _day_secrets.get(day)
    if secret is None:
        from organizations.models import DailyHashKey

        key, created = DailyHashKey.objects.get_or_create(day=day, defaults={"secret": secrets.token_hex(32)})
        if created:
            DailyHashKey.objects.filter(day__lte=day - timedelta(days=settings.EVALUATION_IP_KEY_DAYS)).delete()
        secret = key.secret
        _day_secrets.clear()  # keep one day: yesterday's secret is never asked for again
        _day_secrets[day] = secret
    return secret


def salted_hash(kind: str, value: str) -> str:
    if kind in ADDRESS_KINDS:
        key = f"{settings.EVALUATION_IP_SALT}:{_day_secret(timezone.localdate())}:{kind}".encode()
    else:
        key = f"{settings.EVALUATION_HASH_SALT}:{kind}".encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def network_of(ip: str) -> str:
    """The /24 (IPv4) or /48 (IPv6) network: one household, office or carrier-grade NAT pool."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def device_hash_for(signals: ClientSignals) -> str:
    """The device key if the client has one, else IP and user agent together."""
    if signals.device_key:
        return salted_hash("device", signals.device_key[:200])
    return salted_hash("ip-ua", f"{signals.ip}|{signals.user_agent[:300]}")


def new_device_key() -> str:
    return secrets.token_urlsafe(18)


DEVICE_TOKEN_SALT = "evaluations.device-token"


def device_token() -> str:
    """A device id for an API client, issued and signed by the server (the form's cookie does the same)."""
    return signing.dumps(new_device_key(), salt=DEVICE_TOKEN_SALT)


def device_key_from_token(token: str) -> str:
    """The device key inside a device id this server issued, or "" for anything else.

    A device id the client made up is ignored: the rating then counts as its address's
    (one per address per brand per day), so rotating made-up ids buys nothing.
    """
    try:
        return str(signing.loads(token, salt=DEVICE_TOKEN_SALT))
    except (signing.BadSignature, TypeError, ValueError):
        return ""


# --- counters in the cache (Redis in production) -------------------------------


def _bucket(window: int) -> int:
    return int(time.time()) // max(window, 1)


def _as_if_shared(count: int, *, including_this: bool) -> int:
    """What a count kept by this process alone stands for while Redis is down (degraded mode).

    Without Redis each process counts only the submissions it serves, so a client spread over N web
    processes would get N times every limit. Each earlier submission this process saw is taken to stand
    for ``EVALUATION_DEGRADED_PROCESSES`` (the gunicorn workers); the current one counts once. Spread
    evenly, a client meets about the usual limits; one whose requests all reach the same process meets
    them N times sooner. So while degraded the throttles (429), the proof-of-work soft limit and the
    network limit err on the strict side, as long as the setting is not below the real number of web
    processes (with more, a spread client gets that much more through; README, "When Redis is down or hung").
    """
    processes = max(1, settings.EVALUATION_DEGRADED_PROCESSES)
    if including_this:
        return (count - 1) * processes + 1 if count > 0 else 0
    return count * processes


def _incr_many(keys: list[tuple[str, int]], also_get: tuple[str, ...] = ()):
    """Increment (key, timeout) counters and read cached values (``also_get``), on Redis in one round trip.

    Returns (counter values, {key read: value or None}, degraded). This is the submit path's hot spot
    (`evaluations.fastpath`). Without Redis the counters are this process's own, read as `_as_if_shared`.
    """
    values, got, degraded = fastpath.incr_many(keys, also_get)
    if degraded:
        values = [_as_if_shared(value, including_this=True) for value in values]
    return values, got, degraded


def _ip_key(ip_hash: str) -> str:
    return f"eval:ip:{ip_hash}:{_bucket(settings.EVALUATION_THROTTLE_WINDOW)}"


def submissions_from(ip: str) -> int:
    """Submissions from this IP in the current throttle window (for deciding whether to show the challenge)."""
    count, degraded = fastpath.get_count(_ip_key(salted_hash("ip", ip)))
    return _as_if_shared(count, including_this=False) if degraded else count


@dataclass
class Counts:
    """This submission's place in its windows: per IP overall, per IP and brand, per network and brand."""

    per_ip: int
    per_ip_brand: int
    burst: int
    # Cache values read in the same round trip, by key (the API reads its brand this way).
    prefetched: dict = field(default_factory=dict)
    # False when Redis is down: the values read are this process's fallback, not the site's.
    shared: bool = True


def count_submission(*, ip: str, brand_code: str, prefetch: tuple[str, ...] = ()) -> Counts:
    """Count this submission in its windows (keyed by the brand's code, which never changes).

    ``prefetch`` names cache keys to read in the same round trip; their values come back in ``prefetched``.
    """
    window, burst_window = settings.EVALUATION_THROTTLE_WINDOW, settings.EVALUATION_BURST_WINDOW
    ip_hash = salted_hash("ip", ip)
    net = salted_hash("net", network_of(ip))
    (per_ip, per_ip_brand, burst), prefetched, degraded = _incr_many(
        [
            (_ip_key(ip_hash), window + 5),
            (f"eval:ipb:{ip_hash}:{brand_code}:{_bucket(window)}", window + 5),
            (f"eval:burst:{net}:{brand_code}:{_bucket(burst_window)}", burst_window + 5),
        ],
        also_get=prefetch,
    )
    return Counts(per_ip=per_ip, per_ip_brand=per_ip_brand, burst=burst, prefetched=prefetched, shared=not degraded)


def check_throttle(counts: Counts) -> None:
    """429 past either limit (the refused attempt still counts, so hammering does not reopen the window)."""
    if counts.per_ip_brand > settings.EVALUATION_THROTTLE_IP_BRAND or counts.per_ip > settings.EVALUATION_THROTTLE_IP:
        minutes = max(1, settings.EVALUATION_THROTTLE_WINDOW // 60)
        raise Throttled(
            _("Too many ratings from your network. Please try again in %(minutes)d minutes.") % {"minutes": minutes}
        )


# --- the form's start token --------------------------------------------------------


def form_token() -> str:
    return signing.dumps(time.time(), salt=FORM_TOKEN_SALT)


def form_elapsed(token: str) -> float | None:
    """Seconds since the form was shown, or None if the token is missing, forged or older than a day."""
    try:
        started = float(signing.loads(token, salt=FORM_TOKEN_SALT, max_age=24 * 3600))
    except (signing.BadSignature, TypeError, ValueError):
        return None
    return time.time() - started


# --- ALTCHA proof of work (self-hosted) ---------------------------------------------


def _pow_key() -> str:
    return salted_hash("altcha", "hmac-key")


def pow_challenge() -> dict:
    challenge = altcha.create_challenge_v1(
        hmac_key=_pow_key(),
        max_number=settings.EVALUATION_POW_MAX_NUMBER,
        expires=timezone.now() + timedelta(minutes=30),
    )
    data = challenge.to_dict()
    data["maxnumber"] = data["maxNumber"]  # the widget reads either spelling
    return data


def pow_verify(payload: str) -> bool:
    """A valid, unexpired solution that was not used before."""
    if not payload:
        return False
    try:
        ok, _error = altcha.verify_solution_v1(payload, _pow_key(), check_expires=True)
    except Exception:  # malformed base64 or JSON from the client: just not solved
        return False
    if not ok:
        return False
    return cache.add(f"eval:pow-used:{hashlib.sha256(payload.encode()).hexdigest()}", 1, 3600)


def pow_solve(challenge: dict) -> str:
    """Solve a challenge like the widget does (used by tests and by scripted API clients)."""
    import base64
    import json

    solution = altcha.solve_challenge_v1(
        challenge["challenge"], challenge["salt"], challenge["algorithm"], challenge["maxNumber"], 0
    )
    payload = {
        "algorithm": challenge["algorithm"],
        "challenge": challenge["challenge"],
        "number": solution.number,
        "salt": challenge["salt"],
        "signature": challenge["signature"],
    }
    return base64.b64encode(json.dumps(payload).encode()).decode()
