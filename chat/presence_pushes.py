"""When each room's next "online now" push, or member list push, may go, per process and event loop.

Each kind of push ("presence", "members") has a schedule of its own. A push goes at once if the
room's last one is far enough back; otherwise one push is scheduled for then, and later changes
ride along. Pushes are at least CHAT_PRESENCE_PUSH_SECONDS apart, and further apart in big rooms
(a push to n sockets is n copies: at most CHAT_PRESENCE_PUSH_RATE copies a second), so that a
crowd arriving at once (a 5,000-member room reconnecting after a deploy) costs a few pushes, not
one per arrival. What a push sends is the caller's (chat.broadcasts.presence_broadcast): this
module only keeps time.
"""

import asyncio
import weakref
from collections.abc import Awaitable, Callable

from django.conf import settings

Send = Callable[..., Awaitable[int]]  # send(room) pushes the list; returns how many are online


class PresencePushes:
    """The push schedule of one event loop's rooms."""

    def __init__(self):
        self.due: dict[int, float] = {}  # room id -> loop time the next push may go
        self.waiting: dict[int, asyncio.Task] = {}

    async def push(self, room, send: Send) -> None:
        """`send(room)` now if the room's last push is far enough back, else once, later."""
        loop = asyncio.get_running_loop()
        if room.pk in self.waiting:
            return
        due = self.due.get(room.pk, 0.0)
        if due > loop.time():
            self.waiting[room.pk] = loop.create_task(self._push_at(room, send, due))
            return
        self.due[room.pk] = loop.time() + settings.CHAT_PRESENCE_PUSH_SECONDS
        total = await send(room)
        spacing = max(settings.CHAT_PRESENCE_PUSH_SECONDS, total / settings.CHAT_PRESENCE_PUSH_RATE)
        self.due[room.pk] = loop.time() + spacing

    async def _push_at(self, room, send: Send, when: float) -> None:
        await asyncio.sleep(when - asyncio.get_running_loop().time())
        del self.waiting[room.pk]
        self.due[room.pk] = 0.0
        await self.push(room, send)


_schedules: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, PresencePushes]]" = (
    weakref.WeakKeyDictionary()
)


def presence_pushes(kind: str = "presence") -> PresencePushes:
    """This event loop's schedule of `kind`'s pushes ("presence" or "members")."""
    loop = asyncio.get_running_loop()
    return _schedules.setdefault(loop, {}).setdefault(kind, PresencePushes())
