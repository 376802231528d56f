"""The shared cache (settings.CACHES: Redis, or files on one machine) as the sockets' access
checks and the remembered session reads use it: each call answers a fallback, rather than
raising, while the cache is away (a breaker counts its failures and skips it for a while), and
the reads a crowd of sockets makes at once go together where the cache can read many keys in
one round trip."""

import functools

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.base import BaseCache
from django.core.signals import setting_changed
from django.dispatch import receiver
from redis.exceptions import RedisError

from site_config.batches import Batch

from .outages import Breaker

# What the cache raises when its store (Redis) is away.
CACHE_ERRORS = (OSError, RedisError)

cache_breaker = Breaker("the access cache (full access checks meanwhile)")


@functools.cache
def shared_cache() -> BaseCache:
    """The shared cache (settings.CACHES' default), one instance for the whole process. Django's
    `cache` is one per thread and per asyncio context (asgiref's Local): each socket's task made
    its own, and each call found it through two proxies; a crowd of first connects spent 2-3% of
    its CPU there (docs/performance.md, "Session 28"). Both backends here are safe to share
    between threads and tasks: the file cache keeps nothing between calls, the Redis one keeps
    its clients per process and per event loop (site_config.redis_cache). Made anew when the
    CACHES setting changes (tests)."""
    return caches.create_connection(DEFAULT_CACHE_ALIAS)


@receiver(setting_changed)
def _caches_changed(*, setting: str, **kwargs) -> None:
    if setting == "CACHES":
        shared_cache.cache_clear()


async def cache_acall(fallback, operation: str, *args, **kwargs):
    """`await shared_cache().<operation>(*args, **kwargs)`, or
    `fallback` while cache_breaker is open or if the cache raises (it is away: logged once, and
    the breaker counts it)."""
    if not cache_breaker.allows():
        return fallback
    try:
        result = await getattr(shared_cache(), operation)(*args, **kwargs)
    except CACHE_ERRORS as error:
        cache_breaker.failed(error)
        return fallback
    cache_breaker.succeeded()
    return result


async def _cache_reads(keys: list[str]) -> list:
    found = await cache_acall({}, "aget_many", keys)
    return [found.get(key) for key in keys]


_cache_batch = Batch(_cache_reads)


async def cache_aget(key: str):
    """The shared cache's value at `key`, or None (none there, or the cache away: cache_acall).
    With a cache that reads many keys in one round trip (Redis: site_config.redis_cache's MGET),
    read together with the other reads waiting (site_config.batches): a crowd's sockets read
    their access versions in one command, not one each. Otherwise (the file cache) read at once."""
    if type(shared_cache()).aget_many is not BaseCache.aget_many:
        return await _cache_batch(key)
    return await cache_acall(None, "aget", key)


def cache_call(fallback, operation: str, *args, **kwargs):
    """cache_acall, from synchronous code."""
    if not cache_breaker.allows():
        return fallback
    try:
        result = getattr(shared_cache(), operation)(*args, **kwargs)
    except CACHE_ERRORS as error:
        cache_breaker.failed(error)
        return fallback
    cache_breaker.succeeded()
    return result
