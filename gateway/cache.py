"""A small key-value cache with expiry: Redis when configured, in-process otherwise.

authlib keeps each sign-in's state, nonce and PKCE verifier here, so they never travel in
the browser's cookie.
"""

from __future__ import annotations

import threading
import time
import typing as t
from collections.abc import Callable

import redis


class Cache(t.Protocol):
    """The get/set/delete interface authlib's OAuth registry expects."""

    def get(self, key: str) -> str | None:
        """Return the value, or None when missing or expired."""
        ...

    def set(self, key: str, value: str, timeout: int | None = None) -> None:
        """Store a value for ``timeout`` seconds (forever when None)."""
        ...

    def delete(self, key: str) -> None:
        """Forget a key."""
        ...


class MemoryCache:
    """A thread-safe in-process cache for a single gateway instance."""

    def __init__(self, *, seconds: Callable[[], float] = time.monotonic) -> None:
        """Start empty; ``seconds`` is the steady clock expiry is measured on."""
        self._items: dict[str, tuple[str, float | None]] = {}
        self._lock = threading.Lock()
        self._seconds = seconds

    def get(self, key: str) -> str | None:
        """Return the value, or None when missing or expired."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            value, deadline = item
            if deadline is not None and deadline <= self._seconds():
                del self._items[key]
                return None
            return value

    def set(self, key: str, value: str, timeout: int | None = None) -> None:
        """Store a value for ``timeout`` seconds (forever when None)."""
        deadline = self._seconds() + timeout if timeout else None
        with self._lock:
            self._items[key] = (value, deadline)

    def delete(self, key: str) -> None:
        """Forget a key."""
        with self._lock:
            self._items.pop(key, None)


class RedisCache:
    """A cache shared by every gateway instance through Redis."""

    def __init__(self, client: redis.Redis, *, prefix: str = "dg:") -> None:
        """Wrap a Redis client; keys are namespaced by ``prefix``."""
        self._client = client
        self._prefix = prefix

    def get(self, key: str) -> str | None:
        """Return the value, or None when missing or expired."""
        value = self._client.get(self._prefix + key)
        return value.decode() if isinstance(value, bytes) else value

    def set(self, key: str, value: str, timeout: int | None = None) -> None:
        """Store a value for ``timeout`` seconds (forever when None)."""
        self._client.set(self._prefix + key, value, ex=timeout or None)

    def delete(self, key: str) -> None:
        """Forget a key."""
        self._client.delete(self._prefix + key)


def cache_for(redis_url: str | None) -> Cache:
    """Pick the shared Redis cache when a URL is configured, else an in-process one."""
    if redis_url:
        return RedisCache(redis.Redis.from_url(redis_url))
    return MemoryCache()
