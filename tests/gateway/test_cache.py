"""The sign-in state cache: in-process by default, Redis when configured."""

from __future__ import annotations

import pytest
import redis

from gateway.cache import MemoryCache
from gateway.cache import RedisCache
from tests.conftest import REDIS_URL
from tests.support.live import unavailable


def test_memory_cache_forgets_expired_and_deleted_keys() -> None:
    elapsed = [100.0]
    cache = MemoryCache(seconds=lambda: elapsed[0])
    cache.set("a", "1", timeout=1)
    cache.set("b", "2")
    assert cache.get("a") == "1" and cache.get("b") == "2"
    cache.delete("b")
    assert cache.get("b") is None
    elapsed[0] += 0.99
    assert cache.get("a") == "1"  # not yet
    elapsed[0] += 0.01
    assert cache.get("a") is None


@pytest.mark.redis
def test_redis_cache_is_shared_between_two_instances() -> None:
    client = redis.Redis.from_url(REDIS_URL or "redis://127.0.0.1:6379/15")
    try:
        client.ping()
    except redis.RedisError:
        unavailable("Redis is not reachable at " + (REDIS_URL or "127.0.0.1:6379"))
    first, second = RedisCache(client, prefix="test:"), RedisCache(client, prefix="test:")
    first.set("state", "value", timeout=30)
    assert second.get("state") == "value"
    assert 0 < client.ttl("test:state") <= 30
    second.delete("state")
    assert first.get("state") is None
