"""Who is in a room now: one entry per open socket, kept alive by the socket's heartbeat.

Each socket open on a room's page has an entry that expires settings.CHAT_PRESENCE_TTL_SECONDS
after its last heartbeat. A socket that closes removes its entry; one whose worker crashed stops
beating and its entry expires, so nobody stays "online" forever. A user is online in a room
while any of their sockets has a live entry: several tabs count once.

Two levels make every operation cost O(log n) in the room's size, so that a room of thousands
is as cheap as a room of two: per room, the online users, each scored with the latest expiry of
their sockets; per user in a room, their sockets. Stored in Redis when REDIS_URL is set (sorted
sets, shared by every worker; clocks assumed in step, as NTP keeps them), otherwise in this
process's memory (enough for the one process the in-memory channel layer serves). Nothing is
written to the database.
"""

import asyncio
import itertools
import json
import time
import weakref
from dataclasses import dataclass, field
from operator import attrgetter

from channels.db import database_sync_to_async
from django.conf import settings

from accounts.profiles import display_name_forget, display_name_kept, display_name_recent
from site_config.batches import Batch
from site_config.redis_cache import loop_client_for

from .outages import Breaker


@dataclass(frozen=True, order=True)
class Present:
    """One user online in a room: `username` and `user_id` (who it is), and `name`, what to call
    them (their display name; not part of who it is, so a rename makes no second entry)."""

    username: str
    user_id: int
    name: str = field(default="", compare=False)


class MemoryPresence:
    """Entries in this process's memory: {room id: {Present: {channel name: expiry}}}, on the
    monotonic clock. Each room's users are kept in the order of their last heartbeat (a touch
    moves a user to the end), so expired ones are found at the front and the most recently
    active at the back, without looking at the others."""

    def __init__(self):
        self.rooms: dict[int, dict[Present, dict[str, float]]] = {}

    def _prune(self, users: dict[Present, dict[str, float]], now: float) -> int:
        expired = 0
        while users:
            oldest = next(iter(users))
            if max(users[oldest].values(), default=0) > now:
                break
            del users[oldest]
            expired += 1
        return expired

    async def touch(self, room_id: int, present: Present, channel: str, ttl: float) -> bool:
        now = time.monotonic()
        users = self.rooms.setdefault(room_id, {})
        expired = self._prune(users, now)
        sockets = {other: expiry for other, expiry in users.pop(present, {}).items() if expiry > now}
        came = not sockets
        sockets[channel] = now + ttl
        users[present] = sockets
        return came or expired > 0

    async def remove(self, room_id: int, present: Present, channel: str) -> bool:
        users = self.rooms.get(room_id, {})
        if present not in users:
            return False
        now = time.monotonic()
        sockets = users[present]
        sockets.pop(channel, None)
        if any(expiry > now for expiry in sockets.values()):
            return False
        del users[present]
        return True

    async def online(self, room_id: int, limit: int) -> tuple[list[Present], int]:
        users = self.rooms.get(room_id, {})
        self._prune(users, time.monotonic())
        return list(itertools.islice(reversed(users), limit)), len(users)


class RedisPresence:
    """Entries in Redis: `…:<room>` holds the room's online users scored by their latest expiry
    (Unix time); `…:<room>:<user>` that user's sockets, each scored by its expiry. Both expire
    with their last entry."""

    def __init__(self, url: str):
        # A Redis that does not answer within a second is taken as away (presence unknown); a
        # crowd's commands wait for a connection rather than fail (site_config.redis_cache).
        self.client = loop_client_for(url, socket_timeout=1, socket_connect_timeout=1)
        # The touches waiting together go in one pipeline (a crowd of sockets arriving: one
        # round trip for all, site_config.batches).
        self._touches = Batch(self._touch_many)

    @staticmethod
    def keys(room_id: int, present: Present) -> tuple[str, str, str]:
        room_key = f"tertulia:presence:{room_id}"
        return room_key, f"{room_key}:{present.user_id}", json.dumps([present.username, present.user_id])

    @staticmethod
    def names_key(room_id: int) -> str:
        """The hash of the room's online users' names, by user id."""
        return f"tertulia:presence:{room_id}:names"

    async def touch(self, room_id: int, present: Present, channel: str, ttl: float) -> bool:
        return await self._touches((room_id, present, channel, ttl))

    async def _touch_many(self, touches: list[tuple[int, Present, str, float]]) -> list[bool]:
        now = time.time()
        async with self.client.pipeline(transaction=False) as pipe:
            for room_id, present, channel, ttl in touches:
                room_key, user_key, member = self.keys(room_id, present)
                pipe.zadd(user_key, {channel: now + ttl})
                pipe.expire(user_key, int(ttl) + 1)
                pipe.zremrangebyscore(room_key, "-inf", now)
                pipe.zadd(room_key, {member: now + ttl}, gt=True)
                pipe.expire(room_key, int(ttl) + 1)
                pipe.hset(self.names_key(room_id), str(present.user_id), present.name)
                pipe.expire(self.names_key(room_id), int(ttl) + 1)
            replies = await pipe.execute()
        # Per touch, seven replies: added, ttl, expired, came, ttl, name, ttl.
        return [replies[at + 3] > 0 or replies[at + 2] > 0 for at in range(0, len(replies), 7)]

    async def remove(self, room_id: int, present: Present, channel: str) -> bool:
        room_key, user_key, member = self.keys(room_id, present)
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.zrem(user_key, channel)
            pipe.zremrangebyscore(user_key, "-inf", time.time())
            pipe.zcard(user_key)
            _removed, _expired, sockets_left = await pipe.execute()
        return not sockets_left and await self.client.zrem(room_key, member) > 0

    async def online(self, room_id: int, limit: int) -> tuple[list[Present], int]:
        room_key = f"tertulia:presence:{room_id}"
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.zremrangebyscore(room_key, "-inf", time.time())
            pipe.zrevrange(room_key, 0, limit - 1)
            pipe.zcard(room_key)
            _expired, members, total = await pipe.execute()
        present = [Present(*json.loads(member)) for member in members]
        if not present:
            return [], total
        names = await self.client.hmget(self.names_key(room_id), [str(entry.user_id) for entry in present])
        named = zip(present, names, strict=True)
        return [Present(entry.username, entry.user_id, (name or b"").decode()) for entry, name in named], total


# Redis clients belong to the event loop they were made in: one store per loop.
_stores: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple]" = weakref.WeakKeyDictionary()
_memory = MemoryPresence()


def _store() -> MemoryPresence | RedisPresence:
    if not settings.REDIS_URL:
        return _memory
    loop = asyncio.get_running_loop()
    cached = _stores.get(loop)
    if cached is None or cached[0] != settings.REDIS_URL:
        cached = _stores[loop] = (settings.REDIS_URL, RedisPresence(settings.REDIS_URL))
    return cached[1]


redis_breaker = Breaker("presence's Redis")


async def _guarded(fallback, operation: str, *args):
    """The store's `operation(*args)`, or `fallback` while its Redis is away (presence unknown)."""
    if not redis_breaker.allows():
        return fallback
    try:
        result = await getattr(_store(), operation)(*args)
    except Exception as error:  # noqa: BLE001 - presence is best effort: any store failure means "unknown"
        redis_breaker.failed(error)
        return fallback
    redis_breaker.succeeded()
    return result


async def _present(user) -> Present:
    """`user` as an entry, with their display name (display_name_recent: read at most once a
    minute per process, on the thread pool; kept, as a socket's handshake keeps it, no hop)."""
    name = display_name_kept(user)
    if name is None:
        name = await database_sync_to_async(display_name_recent, thread_sensitive=False)(user)
    return Present(username=user.get_username(), user_id=user.pk, name=name)


async def presence_touch(*, room_id: int, user, channel_name: str) -> bool:
    """Mark the socket `channel_name` of `user` present in room `room_id` for the next
    CHAT_PRESENCE_TTL_SECONDS: on connect, and at each heartbeat (the page's sync).

    Returns whether the room's online list changed: `user` just came online, or someone's
    entries had expired (their worker died without saying goodbye). With Redis away, False
    (logged): presence is unknown, and the socket goes on."""
    present = await _present(user)
    return await _guarded(False, "touch", room_id, present, channel_name, settings.CHAT_PRESENCE_TTL_SECONDS)


async def presence_remove(*, room_id: int, user, channel_name: str) -> bool:
    """Remove the socket `channel_name` of `user` from room `room_id` (it closed). Returns
    whether `user` went offline there (it was their last socket); False with Redis away (the
    entry then expires by itself)."""
    return await _guarded(False, "remove", room_id, Present(user.get_username(), user.pk), channel_name)


ONLINE_LISTED = 100  # as many as a members panel lists (chat.selectors.MEMBERS_SHOWN), to mark them


async def presence_list(*, room_id: int, limit: int = ONLINE_LISTED) -> tuple[list[Present] | None, int]:
    """`(shown, total)`: at most `limit` of the users online in room `room_id` (the most
    recently active), sorted by username, and how many are online in all; `(None, 0)` when it
    cannot be known (Redis away)."""
    shown, total = await _guarded((None, 0), "online", room_id, limit)
    # Sorted on a key: Present's dataclass ordering is a Python call per comparison (700 for 100).
    return (None if shown is None else sorted(shown, key=attrgetter("username", "user_id"))), total


async def presence_reset() -> None:
    """Forget every entry in this process's memory and, with REDIS_URL, in Redis: for tests."""
    _memory.rooms.clear()
    display_name_forget()
    store = _store()
    if isinstance(store, RedisPresence):
        keys = [key async for key in store.client.scan_iter(match="tertulia:presence:*")]
        if keys:
            await store.client.delete(*keys)
