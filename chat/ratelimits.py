"""How fast one user may post, and create rooms or invite people, whatever socket or worker
they go through.

Limits come from settings.CHAT_MESSAGE_RATE_LIMITS in the `limits` library's notation, several
separated by ";" (a burst and a sustained rate, e.g. "5/5seconds;30/minute"), counted in moving
windows. They are stored in Redis when REDIS_URL is set (shared by every worker), otherwise in
this process's memory. While Redis is away, posting limits fail open to this process's memory
(each worker then limits on its own), rather than refusing every message.
"""

import asyncio
import bisect
import time
import weakref

from django.conf import settings
from limits import parse_many
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from redis.exceptions import RedisError

from accounts.ratelimits import limited_address, limiter

from .outages import Breaker

# Redis clients belong to the event loop they were made in: one limiter per loop.
_limiters: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple]" = weakref.WeakKeyDictionary()


# A Redis that does not answer within this many seconds is taken as away.
REDIS_TIMEOUT_SECONDS = 1.0
# How often, at most, the in-memory counts forget expired entries (SweptMemoryStorage).
SWEEP_SECONDS = 1.0


class SweptMemoryStorage(MemoryStorage):
    """`limits`' async in-memory storage (5.x), sweeping expired entries at most once every
    SWEEP_SECONDS and in the loop: `limits` sweeps after every operation, with a thread-pool
    hop (`asyncio.to_thread`) for each key it holds, so one message cost a hop for every user
    who had posted within the window (1.5 ms of CPU a message with ten of them). A bisect on a
    short list needs no thread. What counts is unchanged: a moving window counts only its
    unexpired entries, swept or not. Upstream change: docs/upstream/limits-async-memory-sweep.patch."""

    swept_at = 0.0  # time.monotonic() of the last sweep

    async def _MemoryStorage__schedule_expiry(self) -> None:  # the base class's __schedule_expiry
        now = time.monotonic()
        if now - self.swept_at >= SWEEP_SECONDS:
            self.swept_at = now
            self.sweep()

    def sweep(self) -> None:
        """Forget expired entries and counters (no await: nothing else runs meanwhile). A key
        whose lock is held keeps its lock."""
        now = time.time()
        for key, events in list(self.events.items()):
            del events[bisect.bisect_left(events, -now, key=lambda event: -event.expiry) :]
            if not events:
                del self.events[key]
        for key, expiry in list(self.expirations.items()):
            if expiry <= now:
                self.storage.pop(key, None)
                del self.expirations[key]
        for key in [key for key, lock in self.locks.items() if not lock.locked()]:
            if key not in self.events and key not in self.expirations:
                del self.locks[key]


_memory_limiter = MovingWindowRateLimiter(SweptMemoryStorage())


def _limiter():
    config = (settings.CHAT_MESSAGE_RATE_LIMITS, settings.REDIS_URL)
    loop = asyncio.get_running_loop()
    cached = _limiters.get(loop)
    if cached is None or cached[0] != config:
        if settings.REDIS_URL:
            storage = storage_from_string(
                f"async+{settings.REDIS_URL}",
                implementation="redispy",
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
        else:
            storage = SweptMemoryStorage()
        cached = _limiters[loop] = (config, MovingWindowRateLimiter(storage), parse_many(config[0]))
    return cached[1], cached[2]


redis_breaker = Breaker("rate limits' Redis (limits counted in this process meanwhile)")


async def _each_limit(method: str, user_id: int) -> list[bool]:
    limiter, limits = _limiter()
    if redis_breaker.allows():
        try:
            result = [await getattr(limiter, method)(limit, "chat-message", str(user_id)) for limit in limits]
        except (OSError, RedisError) as error:
            redis_breaker.failed(error)
        else:
            redis_breaker.succeeded()
            return result
    return [await getattr(_memory_limiter, method)(limit, "chat-message", str(user_id)) for limit in limits]


async def message_rate_allowed(user_id: int) -> bool:
    """Whether user `user_id` may post one more message now (nothing is counted)."""
    return all(await _each_limit("test", user_id))


async def message_rate_count(user_id: int) -> None:
    """Count one stored message by user `user_id` (refused ones and resends are not counted)."""
    await _each_limit("hit", user_id)


async def message_rate_limits_reset() -> None:
    """Forget every user's counts (Redis keeps them across processes and runs): for tests, or
    to lift limits after an incident."""
    limiter, _limits = _limiter()
    await limiter.storage.reset()
    await _memory_limiter.storage.reset()


# Limits on actions taken through pages, each counted per user and per client address.
ACTION_LIMITS = {
    "room-create": "CHAT_ROOM_CREATE_RATE_LIMITS",
    "invite": "CHAT_INVITE_RATE_LIMITS",
    "reaction": "CHAT_REACTION_RATE_LIMITS",
}
# Each action's limits when settings do not name them (settings.py is full: read them here).
ACTION_DEFAULTS = {"reaction": "20/10seconds;300/hour"}


def action_allowed(action: str, request) -> bool:
    """Count one `action` ("room-create", "invite" or "reaction") by `request`'s user and from its
    client address (as accounts.ratelimits counts addresses: loopback is not limited); False if
    either went over the action's settings.CHAT_*_RATE_LIMITS (ACTION_LIMITS; else
    ACTION_DEFAULTS): then do nothing. Synchronous, for views; shares the accounts' limiter and
    its storage."""
    address = limited_address(request)
    keys = [f"user:{request.user.pk}"] + ([f"address:{address}"] if address is not None else [])
    limits = parse_many(getattr(settings, ACTION_LIMITS[action], None) or ACTION_DEFAULTS[action])
    return all([limiter().hit(limit, action, key) for limit in limits for key in keys])
