"""Who is in a room now: one entry per open socket, kept alive by the socket's heartbeat.

Each socket open on a room's page has an entry (its user and channel name) that expires
settings.CHAT_PRESENCE_TTL_SECONDS after its last heartbeat. A socket that closes removes its
entry; one whose worker crashed stops beating and its entry expires, so nobody stays "online"
forever. A user is online in a room while any of their sockets has a live entry: several tabs
count once. Entries live in Redis when REDIS_URL is set (a sorted set per room, scored by
expiry time, shared by every worker), otherwise in this process's memory (enough for the one
process the in-memory channel layer serves). Nothing is written to the database.
"""

import asyncio
import json
import time
import weakref
from dataclasses import dataclass

import redis.asyncio as redis
from django.conf import settings


@dataclass(frozen=True, order=True)
class Present:
    """One user online in a room."""

    username: str
    user_id: int


class MemoryPresence:
    """Entries in this process's memory: {room id: {(user id, username, channel): expiry}}."""

    def __init__(self):
        self.rooms: dict[int, dict[tuple[int, str, str], float]] = {}

    async def touch(self, room_id: int, entry: tuple[int, str, str], ttl: float) -> None:
        self.rooms.setdefault(room_id, {})[entry] = time.monotonic() + ttl

    async def remove(self, room_id: int, entry: tuple[int, str, str]) -> None:
        self.rooms.get(room_id, {}).pop(entry, None)

    async def entries(self, room_id: int) -> list[tuple[int, str, str]]:
        now = time.monotonic()
        live = {entry: expiry for entry, expiry in self.rooms.get(room_id, {}).items() if expiry > now}
        if live:
            self.rooms[room_id] = live
        else:
            self.rooms.pop(room_id, None)
        return list(live)


class RedisPresence:
    """Entries in Redis: a sorted set per room, each entry scored by its expiry (Unix time), the
    set itself expiring with its last entry. Workers' clocks are assumed to agree (NTP)."""

    def __init__(self, url: str):
        self.client = redis.Redis.from_url(url)

    @staticmethod
    def key(room_id: int) -> str:
        return f"tertulia:presence:{room_id}"

    async def touch(self, room_id: int, entry: tuple[int, str, str], ttl: float) -> None:
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.zadd(self.key(room_id), {json.dumps(entry): time.time() + ttl})
            pipe.expire(self.key(room_id), int(ttl) + 1)
            await pipe.execute()

    async def remove(self, room_id: int, entry: tuple[int, str, str]) -> None:
        await self.client.zrem(self.key(room_id), json.dumps(entry))

    async def entries(self, room_id: int) -> list[tuple[int, str, str]]:
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.zremrangebyscore(self.key(room_id), "-inf", time.time())
            pipe.zrange(self.key(room_id), 0, -1)
            _removed, members = await pipe.execute()
        return [tuple(json.loads(member)) for member in members]


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


def _entry(user, channel_name: str) -> tuple[int, str, str]:
    return (user.pk, user.get_username(), channel_name)


async def presence_touch(*, room_id: int, user, channel_name: str) -> None:
    """Mark the socket `channel_name` of `user` as present in room `room_id` for the next
    CHAT_PRESENCE_TTL_SECONDS: on connect, and at each heartbeat (the page's sync)."""
    await _store().touch(room_id, _entry(user, channel_name), settings.CHAT_PRESENCE_TTL_SECONDS)


async def presence_remove(*, room_id: int, user, channel_name: str) -> None:
    """Remove the socket `channel_name` of `user` from room `room_id` (it closed)."""
    await _store().remove(room_id, _entry(user, channel_name))


async def presence_list(*, room_id: int) -> list[Present]:
    """The users online in room `room_id` (expired entries dropped), each once however many
    sockets they have, sorted by username."""
    entries = await _store().entries(room_id)
    return sorted({Present(username=username, user_id=user_id) for user_id, username, _channel in entries})


async def presence_reset() -> None:
    """Forget every entry in this process's memory and, with REDIS_URL, in Redis: for tests."""
    _memory.rooms.clear()
    store = _store()
    if isinstance(store, RedisPresence):
        keys = [key async for key in store.client.scan_iter(match="tertulia:presence:*")]
        if keys:
            await store.client.delete(*keys)
