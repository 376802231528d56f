"""site_config.redis_cache: Django's Redis cache with one client per pool, kept, still a cache."""

import os

import pytest

from site_config.redis_cache import RedisCache

REDIS_URL = os.environ.get("REDIS_URL", "")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="set REDIS_URL")


def test_one_client_serves_every_operation_and_the_cache_still_works():
    cache = RedisCache(REDIS_URL, {"KEY_PREFIX": "test-redis-cache"})
    assert cache._cache.get_client() is cache._cache.get_client(write=True)
    cache.set("k", {"v": 1}, 30)
    assert cache.get("k") == {"v": 1}
    assert not cache.add("k", 2, 30) and cache.add("other", 2, 30)
    cache.delete_many(["k", "other"])
    assert cache.get("k") is None and cache.get("other") is None
