"""Django's Redis cache backend, with one redis-py client per connection pool instead of one per
operation.

Django 5.2's RedisCacheClient.get_client() builds a new `redis.Redis(connection_pool=pool)` for
every cache operation: 100 µs of CPU a GET here against 41 with the client kept, and a socket
reads the cache at every frame (its access version, chat/access.py) and every message (the
room's variants, chat/variant_rooms.py). A redis-py client is a thread-safe handle on its pool
(connections are taken from the pool per command), so one per pool serves every thread. The
change upstream: docs/upstream/django-redis-cache-client-reuse.patch.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient


class RedisCacheClient(DjangoRedisCacheClient):
    """Django's client, keeping the redis.Redis it makes for each connection pool."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    """`django.core.cache.backends.redis.RedisCache`, with RedisCacheClient: use its BACKEND
    path, "site_config.redis_cache.RedisCache", with the same LOCATION and OPTIONS."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
