"""How fast one user may post, whatever socket or worker they post through.

Limits come from settings.CHAT_MESSAGE_RATE_LIMITS in the `limits` library's notation, several
separated by ";" (a burst and a sustained rate, e.g. "5/5seconds;30/minute"), counted in moving
windows. They are stored in Redis when REDIS_URL is set (shared by every worker), otherwise in
this process's memory.
"""

import asyncio
import weakref

from django.conf import settings
from limits import parse_many
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

# Redis clients belong to the event loop they were made in: one limiter per loop.
_limiters: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple]" = weakref.WeakKeyDictionary()


def _limiter():
    config = (settings.CHAT_MESSAGE_RATE_LIMITS, settings.REDIS_URL)
    loop = asyncio.get_running_loop()
    cached = _limiters.get(loop)
    if cached is None or cached[0] != config:
        if settings.REDIS_URL:
            storage = storage_from_string(f"async+{settings.REDIS_URL}", implementation="redispy")
        else:
            storage = storage_from_string("async+memory://")
        cached = _limiters[loop] = (config, MovingWindowRateLimiter(storage), parse_many(config[0]))
    return cached[1], cached[2]


async def message_rate_allowed(user_id: int) -> bool:
    """Count one message by user `user_id`; False if it goes over any limit (send nothing then)."""
    limiter, limits = _limiter()
    allowed = [await limiter.hit(limit, "chat-message", str(user_id)) for limit in limits]
    return all(allowed)


async def message_rate_limits_reset() -> None:
    """Forget every user's counts (Redis keeps them across processes and runs): for tests, or
    to lift limits after an incident."""
    limiter, _limits = _limiter()
    await limiter.storage.reset()
