"""The submit path's speed tricks, behind one door: Redis in one round trip, through public APIs only.

A rating costs a few cache operations (throttle counters, the brand, whether a fold is pending); Django's
cache API would make each its own round trip and pickle its values. Here they go to Redis as one Lua
script or one command, with JSON values, on a plain redis-py client built from the cache's own settings
(``CACHES["default"]``: the same URL and the same short timeouts). Keys are made by the cache's
``make_and_validate_key``, so a key written here is the key the cache API deletes (invalidations).

Fail-open as the cache is: each call runs through `config.cache.FailOpenRedisCache.fail_open`, which
records trouble in `config.degraded`, backs off, replays the deletions made meanwhile before Redis is
read again, and otherwise hands the work to the cache's per-process fallback. When the cache is not
Redis (development, tests on SQLite) the same operations run on it through Django's cache API.

Callers get plain values and a ``degraded`` flag where counts kept by one process must be read as the
whole site's (`evaluations.integrity`). Values written here are JSON: read them back from here only.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from typing import Any

import redis
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache

from config.cache import FailOpenRedisCache

# One client per (location, options), shared by the threads of a process; redis-py's pool reconnects
# after a fork (gunicorn workers) by itself.
_clients: dict[tuple, redis.Redis] = {}
_clients_lock = threading.Lock()


def _client() -> redis.Redis:
    params = settings.CACHES["default"]
    location = params["LOCATION"]
    location = location if isinstance(location, str) else location[0]  # the primary, as the cache writes
    options = dict(params.get("OPTIONS") or {})
    key = (location, tuple(sorted(options.items())))
    client = _clients.get(key)
    if client is None:
        with _clients_lock:
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = redis.Redis.from_url(location, **options)
    return client


def _run(on_redis: Callable[[redis.Redis, BaseCache], Any], on_store: Callable[[BaseCache, bool], Any]):
    """``on_redis(client, cache)`` on Redis, else ``on_store(store, degraded)`` with Django's cache API."""
    backend = caches["default"]
    if isinstance(backend, FailOpenRedisCache):
        return backend.fail_open(lambda: on_redis(_client(), backend), lambda store: on_store(store, True))
    return on_store(backend, False)


def get_json(key: str):
    def on_redis(client, backend):
        raw = client.get(backend.make_and_validate_key(key))
        return None if raw is None else json.loads(raw)

    return _run(on_redis, lambda store, _degraded: store.get(key))


def set_json(key: str, value, timeout: int) -> None:
    _run(
        lambda client, backend: client.set(backend.make_and_validate_key(key), json.dumps(value), ex=timeout),
        lambda store, _degraded: store.set(key, value, timeout),
    )


def add_json(key: str, value, timeout: int) -> bool:
    """``cache.add``: set unless present, True if set; one round trip."""
    return _run(
        lambda client, backend: bool(
            client.set(backend.make_and_validate_key(key), json.dumps(value), ex=timeout, nx=True)
        ),
        lambda store, _degraded: store.add(key, value, timeout),
    )


def get_count(key: str) -> tuple[int, bool]:
    """A counter's value (0 when absent), and whether it is this process's own (degraded)."""
    return _run(
        lambda client, backend: (int(client.get(backend.make_and_validate_key(key)) or 0), False),
        lambda store, degraded: (store.get(key, 0), degraded),
    )


_INCR_IF_PRESENT = "if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('INCR', KEYS[1]) end return 0"


def incr_if_present(key: str) -> None:
    """Add one to a counter that exists (one seeded from the database); leave an absent one absent."""

    def on_redis(client, backend):
        _script(client, _INCR_IF_PRESENT)(keys=[backend.make_and_validate_key(key)])

    def on_store(store, _degraded):
        with contextlib.suppress(ValueError):  # absent: the next reader seeds it from the database
            store.incr(key)

    _run(on_redis, on_store)


# Increment each counter (setting its expiry when it is new) and read the remaining keys, in one command.
_COUNT_AND_GET = """
local out = {}
for i = 1, #ARGV do
  local value = redis.call('INCR', KEYS[i])
  if value == 1 then redis.call('EXPIRE', KEYS[i], ARGV[i]) end
  out[i] = value
end
for i = #ARGV + 1, #KEYS do out[i] = redis.call('GET', KEYS[i]) or '' end
return out
"""
_scripts: dict[tuple[int, str], Any] = {}


def _script(client: redis.Redis, source: str):
    """The script registered once per client (EVALSHA, falling back to EVAL after a Redis restart)."""
    script = _scripts.get((id(client), source))
    if script is None:
        script = _scripts[(id(client), source)] = client.register_script(source)
    return script


def incr_many(counters: list[tuple[str, int]], also_get: tuple[str, ...] = ()) -> tuple[list[int], dict, bool]:
    """Increment (key, timeout) counters and read JSON values (``also_get``): one Redis round trip.

    Returns (counter values, {key read: value or None}, degraded). Degraded, the counters are this
    process's own (the caller decides what they stand for).
    """

    def on_redis(client, backend):
        script = _script(client, _COUNT_AND_GET)
        keys = [backend.make_and_validate_key(key) for key, _timeout in counters]
        keys += [backend.make_and_validate_key(key) for key in also_get]
        result = script(keys=keys, args=[timeout for _key, timeout in counters])
        got = {
            key: json.loads(raw) if raw else None for key, raw in zip(also_get, result[len(counters) :], strict=True)
        }
        return [int(value) for value in result[: len(counters)]], got, False

    def on_store(store, degraded: bool):
        got = {key: store.get(key) for key in also_get}
        values = []
        for key, timeout in counters:
            store.add(key, 0, timeout)
            try:
                value = store.incr(key)
            except ValueError:  # expired between add and incr
                store.set(key, 1, timeout)
                value = 1
            values.append(value)
        return values, got, degraded

    return _run(on_redis, on_store)
