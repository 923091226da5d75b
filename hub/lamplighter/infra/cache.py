"""The hub's cache backends: Django's, made cheap to call from the event loop.

Django keeps a cache backend per thread and per asyncio context, so under ASGI each request
task built its own RedisCache, and with it a new Redis connection: one per device poll, which
held two workers near 400 polls/s (bench/README.md). redis-py's client and connection pool are
thread-safe, so every backend instance of a process shares one. And BaseCache.aget runs get()
in a thread; the hot path's read (a throttle count per poll) is awaited natively instead.
"""

import asyncio
import threading
import weakref
from typing import Any

import redis.asyncio
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.utils.functional import cached_property

_clients: dict[tuple[str, ...], Any] = {}
_clients_lock = threading.Lock()
_async_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, redis.asyncio.Redis]]" = (
    weakref.WeakKeyDictionary()
)


class SharedRedisCache(RedisCache):
    """RedisCache with one client per process (and per event loop for aget)."""

    # Set by RedisCache.__init__ (not in django-stubs).
    _servers: list[str]
    _options: dict[str, Any]
    _class: type

    @cached_property
    def _cache(self) -> Any:
        key = (*self._servers, repr(sorted(self._options.items())))
        with _clients_lock:
            if key not in _clients:
                _clients[key] = self._class(self._servers, **self._options)
            return _clients[key]

    async def aget(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        """get() on redis-py's asyncio client: no thread, no blocking of the loop."""
        key = self.make_and_validate_key(key, version=version)
        value = await self._async_client().get(key)
        return default if value is None else self._cache._serializer.loads(value)

    def _async_client(self) -> "redis.asyncio.Redis":
        clients = _async_clients.setdefault(asyncio.get_running_loop(), {})
        server = self._servers[0]  # the hub configures one Redis (REDIS_URL)
        if server not in clients:
            clients[server] = redis.asyncio.Redis.from_url(server)
        return clients[server]


async def close_async_clients() -> None:
    """Close the asyncio Redis clients of the running loop (server shutdown)."""
    for client in _async_clients.pop(asyncio.get_running_loop(), {}).values():
        await client.aclose()


class InProcessCache(LocMemCache):
    """Django's local-memory cache; its get never waits, so aget runs it in place, not in a thread."""

    async def aget(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        """The same as get()."""
        return self.get(key, default, version)
