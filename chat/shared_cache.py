"""The shared cache (settings.CACHES: Redis, or files on one machine) as the sockets' access
checks and the remembered session reads use it: each call answers a fallback, rather than
raising, while the cache is away (a breaker counts its failures and skips it for a while), and
the reads a crowd of sockets makes at once go together where the cache can read many keys in
one round trip."""

import functools

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache
from django.core.cache.backends.base import BaseCache
from django.utils.module_loading import import_string
from redis.exceptions import RedisError

from site_config.batches import Batch

from .outages import Breaker

# What the cache raises when its store (Redis) is away.
CACHE_ERRORS = (OSError, RedisError)

cache_breaker = Breaker("the access cache (full access checks meanwhile)")


async def cache_acall(fallback, operation: str, *args, **kwargs):
    """`await cache.<operation>(*args, **kwargs)` on the shared cache (settings.CACHES), or
    `fallback` while cache_breaker is open or if the cache raises (it is away: logged once, and
    the breaker counts it)."""
    if not cache_breaker.allows():
        return fallback
    try:
        result = await getattr(cache, operation)(*args, **kwargs)
    except CACHE_ERRORS as error:
        cache_breaker.failed(error)
        return fallback
    cache_breaker.succeeded()
    return result


async def _cache_reads(keys: list[str]) -> list:
    found = await cache_acall({}, "aget_many", keys)
    return [found.get(key) for key in keys]


_cache_batch = Batch(_cache_reads)


@functools.cache
def _reads_many_at_once(backend: str) -> bool:
    """Whether the cache backend at `backend` (a dotted path) reads many keys in one round trip."""
    return import_string(backend).aget_many is not BaseCache.aget_many


async def cache_aget(key: str):
    """The shared cache's value at `key`, or None (none there, or the cache away: cache_acall).
    With a cache that reads many keys in one round trip (Redis: site_config.redis_cache's MGET),
    read together with the other reads waiting (site_config.batches): a crowd's sockets read
    their access versions in one command, not one each. Otherwise (the file cache) read at once."""
    if _reads_many_at_once(settings.CACHES[DEFAULT_CACHE_ALIAS]["BACKEND"]):
        return await _cache_batch(key)
    return await cache_acall(None, "aget", key)


def cache_call(fallback, operation: str, *args, **kwargs):
    """cache_acall, from synchronous code."""
    if not cache_breaker.allows():
        return fallback
    try:
        result = getattr(cache, operation)(*args, **kwargs)
    except CACHE_ERRORS as error:
        cache_breaker.failed(error)
        return fallback
    cache_breaker.succeeded()
    return result
