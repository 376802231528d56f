"""Django's Redis cache backend, with one redis-py client per connection pool instead of one per
operation, and the reads and writes a socket makes from its event loop (`aget`, `aset`,
`aadd`) made there, on redis-py's asyncio client, rather than through a thread.

Django 5.2's RedisCacheClient.get_client() builds a new `redis.Redis(connection_pool=pool)` for
every cache operation: 100 µs of CPU a GET here against 41 with the client kept, and a socket
reads the cache at every frame (its access version, chat/access.py) and every message (the
room's variants, chat/variant_rooms.py). A redis-py client is a thread-safe handle on its pool
(connections are taken from the pool per command), so one per pool serves every thread. The
change upstream: docs/upstream/django-redis-cache-client-reuse.patch.

Django's async cache methods are its sync ones through asgiref's sync_to_async: two thread
switches around each GET, 12% of a process's CPU in 20-member rooms over Redis
(bench/results/profile-ramp-redis.txt, session 15). redis.asyncio speaks to the same server
with the same keys, serializer and timeouts, from the caller's loop (one client per loop: an
asyncio connection belongs to the loop that opened it).
"""

import asyncio
import weakref

import redis.asyncio
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient

# How many connections one event loop's asyncio client may hold. redis-py 8 caps a pool at 100
# and, past that, raises MaxConnectionsError at once rather than waiting (redis/redis-py#2517):
# with 200 handshakes at once (a crowd reconnecting), each reading an access version, the cache
# seemed away (chat.access's breaker opened), and every socket fell back to full checks: 3.6 ms
# of CPU a connect instead of 1.7 (bench/connects.py --redis, session 26). A blocking pool makes a
# command wait for a connection, up to the client's socket timeout, as for an answer.
LOOP_CONNECTIONS = 100


def loop_client_for(url: str, **options) -> redis.asyncio.Redis:
    """A redis.asyncio client on `url` (`options`: the connection's, e.g. socket_timeout in
    seconds) whose commands wait, up to that timeout (1 s if none), for one of LOOP_CONNECTIONS
    connections when all are busy, then raise redis's ConnectionError. For the running loop only."""
    wait = options.get("socket_timeout") or 1
    pool = redis.asyncio.BlockingConnectionPool.from_url(url, max_connections=LOOP_CONNECTIONS, timeout=wait, **options)
    return redis.asyncio.Redis(connection_pool=pool)


# Django makes a cache instance, and with it a client, per thread and per asyncio context (each
# socket's task has its own: asgiref's Local), so what is made for reuse is kept here, per
# process, by server and options: connection pools and their clients, and each event loop's
# asyncio client. Kept on the instance, every socket opened a pool and a connection of its own.
_pools: dict[tuple[str, str], object] = {}  # (server URL, options) -> redis.ConnectionPool
_clients: dict[int, object] = {}  # id(pool) -> redis.Redis
_loop_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str], redis.asyncio.Redis]]" = (
    weakref.WeakKeyDictionary()
)


class RedisCacheClient(DjangoRedisCacheClient):
    """Django's client, whose connection pools and the redis.Redis for each are the process's
    (above), with a redis.asyncio.Redis per event loop for the async methods (on the first
    server, which takes the writes: replicas may lag a version just bumped)."""

    def _get_connection_pool(self, write):
        server = self._servers[self._get_connection_pool_index(write)]
        key = (server, repr(sorted(self._pool_options.items())))
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = self._pool_class.from_url(server, **self._pool_options)
        return pool

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = _clients.get(id(pool))
        if client is None:
            client = _clients[id(pool)] = self._client(connection_pool=pool)
        return client

    def loop_client(self) -> redis.asyncio.Redis:
        """The running loop's asyncio client (made at its first use: loop_client_for), with the
        sync pools' options but their parser (a synchronous class)."""
        clients = _loop_clients.setdefault(asyncio.get_running_loop(), {})
        key = (self._servers[0], repr(sorted(self._pool_options.items())))
        client = clients.get(key)
        if client is None:
            options = {name: value for name, value in self._pool_options.items() if name != "parser_class"}
            client = clients[key] = loop_client_for(self._servers[0], **options)
        return client

    async def aget(self, key, default):
        value = await self.loop_client().get(key)
        return default if value is None else self._serializer.loads(value)

    async def aget_many(self, keys: list) -> dict:
        values = await self.loop_client().mget(keys)
        return {
            key: self._serializer.loads(value) for key, value in zip(keys, values, strict=True) if value is not None
        }

    async def aset(self, key, value, timeout):
        client, value = self.loop_client(), self._serializer.dumps(value)
        if timeout == 0:
            await client.delete(key)
        else:
            await client.set(key, value, ex=timeout)

    async def aadd(self, key, value, timeout):
        client, value = self.loop_client(), self._serializer.dumps(value)
        if timeout == 0:
            if stored := bool(await client.set(key, value, nx=True)):
                await client.delete(key)
            return stored
        return bool(await client.set(key, value, ex=timeout, nx=True))


class RedisCache(DjangoRedisCache):
    """`django.core.cache.backends.redis.RedisCache`, with RedisCacheClient: use its BACKEND
    path, "site_config.redis_cache.RedisCache", with the same LOCATION and OPTIONS. `aget`,
    `aget_many`, `aset` and `aadd` take the same arguments and give what `get`, `get_many`, `set` and `add` would, and
    raise redis-py's errors (redis.exceptions.RedisError, OSError) as they do."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient

    async def aget(self, key, default=None, version=None):
        key = self.make_and_validate_key(key, version=version)
        return await self._cache.aget(key, default)

    async def aget_many(self, keys, version=None):
        """`get_many`, in one MGET from the loop (Django's default makes a GET a key)."""
        made = {self.make_and_validate_key(key, version=version): key for key in keys}
        return {made[key]: value for key, value in (await self._cache.aget_many(list(made))).items()}

    async def aset(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        await self._cache.aset(key, value, self.get_backend_timeout(timeout))

    async def aadd(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        return await self._cache.aadd(key, value, self.get_backend_timeout(timeout))
