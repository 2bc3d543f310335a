"""The Redis cache that fails open: when Redis is down or hung, each process serves from a local cache.

Every call first goes to Redis with the short timeouts of ``CACHES["default"]["OPTIONS"]``
(``REDIS_TIMEOUT_SECONDS``). On any Redis error the call is served by this process's fallback, a
`LocMemCache`, the process enters degraded mode (`config.degraded`: logged, shown by `/healthz`) and
later calls go straight to the fallback until the back-off has passed and one call finds Redis again.
Pages and rankings stay up (cache misses are read from the database) and counters keep counting,
each process on its own.

When Redis answers again, the deletions made meanwhile are replayed on it (they are the cache's
invalidations: a brand's status, a version key) and the fallback is emptied, so neither side serves
what the other one invalidated. ``clear()`` is not replayed: flushing Redis is never done by accident.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

from config import degraded

logger = logging.getLogger("config.redis")

PART = "cache"
# What counts as "Redis did not answer": redis-py's errors (connection, timeout, busy loading, read-only
# replica...) and bare socket errors. A missing key for ``incr`` (ValueError) is not one of them.
REDIS_ERRORS = (redis.exceptions.RedisError, OSError)
# Enough for the counters and cached pages of one process for a while; LocMemCache culls beyond it.
FALLBACK_MAX_ENTRIES = 20_000
# Deletions remembered for the replay; beyond this many the rest expire by themselves (and are logged).
MAX_PENDING_DELETES = 10_000

# Shared by the per-thread instances of one backend (Django builds one per thread), by LOCATION.
_pending_deletes: dict[str, set[str]] = {}
_pending_overflow: dict[str, bool] = {}
_pending_lock = threading.Lock()


class FailOpenRedisCache(RedisCache):
    """Django's `RedisCache`, with a per-process `LocMemCache` (``fallback``) for when Redis fails."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._location = server if isinstance(server, str) else ",".join(server)
        fallback_params = {key: value for key, value in params.items() if key not in ("BACKEND", "LOCATION")}
        fallback_params["OPTIONS"] = {"MAX_ENTRIES": FALLBACK_MAX_ENTRIES}
        # LocMemCache shares its storage between instances of one name: every thread sees the same fallback.
        self.fallback = LocMemCache(f"redis-fallback:{self._location}", fallback_params)

    # --- the door for fast paths (`evaluations.fastpath`) ----------------------------------------------

    def fail_open(self, on_redis: Callable[[], Any], on_fallback: Callable[[LocMemCache], Any]):
        """``on_redis()``, or ``on_fallback(self.fallback)`` when Redis fails, times out or is backed off from.

        For fast paths that talk to Redis with a client of their own (a Lua script, JSON values): their
        calls share this cache's degraded-mode record, back-off and replay of deletions. Keys are the
        caller's business (``make_and_validate_key`` on Redis, the plain key on the fallback).
        """
        return self._attempt(on_redis, lambda: on_fallback(self.fallback))

    # --- the cache API ---------------------------------------------------------------------------------

    def _attempt(self, on_redis: Callable[[], Any], on_fallback: Callable[[], Any]):
        if degraded.should_try(PART):
            try:
                if degraded.is_degraded(PART):
                    # The first call after a failure: nothing is read from Redis before the deletions
                    # made without it are replayed there (else it could answer with what they removed).
                    self._replay_deletes()
                result = on_redis()
            except REDIS_ERRORS as exc:
                degraded.failed(PART, exc)
            else:
                if degraded.answered(PART):
                    self._recovered()
                return result
        return on_fallback()

    def _call(self, name: str, *args):
        return self._attempt(
            lambda: getattr(RedisCache, name)(self, *args), lambda: getattr(self.fallback, name)(*args)
        )

    def _replay_deletes(self) -> None:
        with _pending_lock:
            keys = _pending_deletes.pop(self._location, set())
        if not keys:
            return
        try:
            self._cache.delete_many(sorted(keys))
        except REDIS_ERRORS:  # still down: the next try replays them
            with _pending_lock:
                _pending_deletes.setdefault(self._location, set()).update(keys)
            raise

    def _recovered(self) -> None:
        """Redis is back: replay what other threads deleted meanwhile, and start the next outage empty."""
        try:
            self._replay_deletes()
        except REDIS_ERRORS as exc:
            degraded.failed(PART, exc)
        self.fallback.clear()
        with _pending_lock:
            overflow = _pending_overflow.pop(self._location, False)
        if overflow:
            logger.warning(
                "Redis (cache): more than %d deletions while degraded; the rest expire by themselves",
                MAX_PENDING_DELETES,
            )

    def _remember_deletes(self, keys, version) -> None:
        if not degraded.is_degraded(PART):
            return
        made = [self.make_and_validate_key(key, version=version) for key in keys]
        with _pending_lock:
            pending = _pending_deletes.setdefault(self._location, set())
            room = MAX_PENDING_DELETES - len(pending)
            pending.update(made[: max(room, 0)])
            if len(made) > room:
                _pending_overflow[self._location] = True

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._call("get", key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", key, timeout, version)

    def delete(self, key, version=None):
        result = self._call("delete", key, version)
        self._remember_deletes([key], version)
        return result

    def get_many(self, keys, version=None):
        return self._call("get_many", keys, version)

    def has_key(self, key, version=None):
        return self._call("has_key", key, version)

    def incr(self, key, delta=1, version=None):
        return self._call("incr", key, delta, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", data, timeout, version)

    def delete_many(self, keys, version=None):
        keys = list(keys)
        result = self._call("delete_many", keys, version)
        self._remember_deletes(keys, version)
        return result

    def clear(self):
        return self._call("clear")
