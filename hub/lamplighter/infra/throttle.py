"""Failed-attempt throttling (logins, device credentials), counted in Django's cache.

The cache is per process by default and Redis when REDIS_URL is set, so several workers
share the counts. Identities are hashed: no user name or address is kept in the cache.
"""

import hashlib

from django.core.cache import cache


def _key(scope: str, identity: str) -> str:
    digest = hashlib.sha256(identity.encode("utf-8", "replace")).hexdigest()[:32]
    return f"throttle:{scope}:{digest}"


def throttle_blocked(*, scope: str, identity: str, limit: int) -> bool:
    """True once `identity` has failed `limit` times within the current window."""
    return int(cache.get(_key(scope, identity), 0)) >= limit


async def athrottle_blocked(*, scope: str, identity: str, limit: int) -> bool:
    """throttle_blocked for the event loop (the hub's cache backends await it without a thread)."""
    return int(await cache.aget(_key(scope, identity), 0)) >= limit


def throttle_failed(*, scope: str, identity: str, window_seconds: int) -> int:
    """Count one failure; the window starts at the first failure. Returns the count."""
    key = _key(scope, identity)
    cache.add(key, 0, timeout=window_seconds)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window_seconds)
        return 1


def throttle_reset(*, scope: str, identity: str) -> None:
    """Forget the failures (after a success)."""
    cache.delete(_key(scope, identity))
