"""Degraded mode: this process's record of Redis trouble, per part ("cache", "broker").

The cache (`config.cache`) and the task queue (`config.tasks`) report here when a Redis call fails or
times out, and when Redis answers again; `/healthz` reads the record. While a part is in trouble its
callers skip Redis and use their fallback, and only after ``REDIS_RETRY_AFTER_SECONDS`` does one caller
try Redis again, so a Redis that is down or hung costs one short timeout per back-off, not one per call.

The record is process-local on purpose: it needs no shared store (the shared store is what failed).
A process that has not called Redis since it went down does not know yet; its first call finds out.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings

logger = logging.getLogger("config.redis")

# A part still failing is logged again at most this often (with the count of failures in between).
LOG_EVERY_SECONDS = 60.0


@dataclass
class Trouble:
    since: float  # wall clock, first failure of this spell
    last_failure: float  # wall clock
    error: str
    failures: int
    retry_at: float  # monotonic: callers skip Redis until then
    logged_at: float  # monotonic


_lock = threading.Lock()
_troubles: dict[str, Trouble] = {}


def _describe(exc: BaseException) -> str:
    return f"{exc.__class__.__name__}: {exc}"[:200]


def failed(part: str, exc: BaseException) -> None:
    """A Redis call of ``part`` failed or timed out: record it, back off, log (rate-limited)."""
    now, wall = time.monotonic(), time.time()
    retry_at = now + settings.REDIS_RETRY_AFTER_SECONDS
    with _lock:
        trouble = _troubles.get(part)
        if trouble is None:
            _troubles[part] = Trouble(wall, wall, _describe(exc), 1, retry_at, now)
            first, log = True, True
        else:
            trouble.last_failure, trouble.error, trouble.retry_at = wall, _describe(exc), retry_at
            trouble.failures += 1
            first, log = False, now - trouble.logged_at >= LOG_EVERY_SECONDS
            if log:
                trouble.logged_at = now
        failures = _troubles[part].failures
    if first:
        logger.warning("Redis (%s) unreachable, degraded mode: %s", part, _describe(exc))
    elif log:
        logger.warning(
            "Redis (%s) still unreachable (%d failed calls), degraded mode: %s", part, failures, _describe(exc)
        )


def should_try(part: str) -> bool:
    """Whether to call Redis now: yes when all is well, else once per back-off (the caller probes).

    The probing caller pushes the next try a back-off further, so concurrent callers keep using the
    fallback while it waits for its answer.
    """
    trouble = _troubles.get(part)
    if trouble is None:
        return True
    now = time.monotonic()
    with _lock:
        if now < trouble.retry_at:
            return False
        trouble.retry_at = now + settings.REDIS_RETRY_AFTER_SECONDS
        return True


def answered(part: str) -> bool:
    """A Redis call of ``part`` succeeded. True when this ends a spell of trouble (the caller may resync)."""
    if part not in _troubles:  # the hot path: one dict lookup
        return False
    with _lock:
        trouble = _troubles.pop(part, None)
    if trouble is None:
        return False
    logger.warning(
        "Redis (%s) answers again after %.1f s of degraded mode (%d failed calls)",
        part,
        time.time() - trouble.since,
        trouble.failures,
    )
    return True


def retry_now() -> None:
    """Let the next call of every part try Redis at once, without waiting out the back-off.

    `/healthz` calls it when its own ping got an answer: Redis is back, so the first call after it
    may as well find out (and end degraded mode) now.
    """
    with _lock:
        for trouble in _troubles.values():
            trouble.retry_at = 0.0


def is_degraded(part: str | None = None) -> bool:
    return bool(_troubles) if part is None else part in _troubles


def report() -> dict[str, dict]:
    """What `/healthz` shows: per part in trouble, since when, the last failure and its error."""
    with _lock:
        troubles = dict(_troubles)
    return {
        part: {
            "since": _iso(trouble.since),
            "last_failure": _iso(trouble.last_failure),
            "error": trouble.error,
            "failures": trouble.failures,
        }
        for part, trouble in sorted(troubles.items())
    }


def reset() -> None:
    """Forget all trouble (tests)."""
    with _lock:
        _troubles.clear()


def _iso(wall: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(wall))
