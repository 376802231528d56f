"""site_config.redis_cache: Django's Redis cache with one client per pool, kept, still a cache."""

import asyncio
import os

import pytest

from site_config.redis_cache import LOOP_CONNECTIONS, RedisCache

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


async def test_the_async_methods_run_on_the_loop_and_share_the_sync_ones_keys(monkeypatch):
    def no_thread(*args, **kwargs):
        raise AssertionError("a thread hop: Django's default async method")

    monkeypatch.setattr("django.core.cache.backends.base.sync_to_async", no_thread)
    cache = RedisCache(REDIS_URL, {"KEY_PREFIX": "test-redis-cache-async"})
    cache.delete_many(["k", "other", "gone"])
    await cache.aset("k", {"v": 1}, 30)
    assert cache.get("k") == {"v": 1} and await cache.aget("k") == {"v": 1}
    cache.set("other", 7, 30)  # an int is stored as itself (Django's serializer), read back alike
    assert await cache.aget("other") == 7 and await cache.aget("missing", "default") == "default"
    assert not await cache.aadd("k", 2, 30) and await cache.aadd("gone", 3, None)
    assert cache.get("gone") == 3
    await cache.aset("gone", 4, 0)  # a timeout of 0 deletes, as set's does
    assert cache.get("gone") is None
    cache.delete_many(["k", "other"])
    cache.set("k", [1], 30)
    assert await cache.aget_many(["k", "missing", "k"]) == cache.get_many(["k", "missing"]) == {"k": [1]}
    cache.delete("k")


async def test_reads_waiting_together_are_one_mget(monkeypatch, settings):
    """chat.shared_cache.cache_aget: the access versions a crowd's sockets read at once, in one command."""
    from django.core.cache import cache

    from chat import shared_cache

    if not settings.CACHES["default"]["BACKEND"].endswith("redis_cache.RedisCache"):
        pytest.skip("the settings' cache is not Redis")
    cache.set_many({"a": "1", "b": "2"}, 30)
    commands = []
    client = cache._cache.loop_client()
    real = client.execute_command

    async def counted(*args, **kwargs):
        commands.append(args[0])
        return await real(*args, **kwargs)

    monkeypatch.setattr(client, "execute_command", counted)
    assert await asyncio.gather(*(shared_cache.cache_aget(key) for key in ("a", "b", "missing", "a"))) == [
        "1",
        "2",
        None,
        "1",
    ]
    assert commands == ["MGET"]
    cache.delete_many(["a", "b"])


async def test_the_caches_of_other_sockets_share_one_pool_and_one_loop_client():
    """Django makes a cache instance per asyncio context (each socket's task has one): the
    instances all take the process's pool and sync client and this loop's asyncio client, not a
    connection each."""

    async def a_socket():
        cache = RedisCache(REDIS_URL, {"KEY_PREFIX": "test-redis-cache-shared"})
        await cache.aget("anything")
        return cache._cache.get_client(), cache._cache.loop_client()

    found = await asyncio.gather(*(asyncio.create_task(a_socket()) for _ in range(3)))
    assert len({id(client) for client, _ in found}) == 1
    assert len({id(loop_client) for _, loop_client in found}) == 1


async def test_a_crowd_of_reads_waits_for_connections_rather_than_failing():
    """More reads at once than the loop client's connections (a crowd of handshakes, each reading
    an access version): each waits for a connection and is answered; none raises (redis-py 8's
    own pool raised MaxConnectionsError past 100, which took the cache for away)."""
    cache = RedisCache(REDIS_URL, {"KEY_PREFIX": "test-redis-cache-crowd"})
    cache.set("k", 5, 30)
    crowd = 3 * LOOP_CONNECTIONS
    answers = await asyncio.gather(*(cache.aget("k") for _ in range(crowd)))
    assert answers == [5] * crowd
    cache.delete("k")
