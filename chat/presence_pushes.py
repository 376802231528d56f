"""A room page's spaced pushes: who is online ("online now", chat.presence) and its member
list (with their online marks), each told when it goes, per process and event loop.

Each kind of push ("presence", "members") has a schedule of its own. A push goes at once if the
room's last one is far enough back; otherwise one push is scheduled for then, and later changes
ride along. Pushes are at least CHAT_PRESENCE_PUSH_SECONDS apart, and further apart in big rooms
(a push to n sockets is n copies: at most CHAT_PRESENCE_PUSH_RATE copies a second), so that a
crowd arriving at once (a 5,000-member room reconnecting after a deploy, or joining) costs a few
pushes, not one per arrival to every socket. Each push reads what it shows when it goes, and is
sent through chat.broadcasts (`chat.presence`, `room.members` to the page group).
"""

import asyncio
import weakref
from collections.abc import Awaitable, Callable

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.conf import settings

from . import variants
from .broadcasts import group_send, page_group
from .presence import presence_list, presence_remove, presence_touch
from .selectors import room_members

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


def members_broadcast(*, room) -> None:
    """Push `room`'s member list and count, rendered once, to the sockets on its page
    (`room.members`): someone joined, was invited, left or was removed. Throttled per process
    and room as presence is (chat.presence_pushes: a crowd joining at once costs a few pushes
    of the whole list, not one per arrival to every socket); each push reads the list when it
    goes: two queries, and one read of who is online, to keep the list's online marks."""
    async_to_sync(_members_throttled)(room)


async def _members_throttled(room) -> None:
    await presence_pushes("members").push(room, _members_send)


async def _members_send(room) -> int:
    shown, _total = await presence_list(room_id=room.pk)
    online_ids = [present.user_id for present in shown or []]
    # Not on the thread of whoever asked first: a push that waited for its turn outlives them.
    push, count = await database_sync_to_async(_members_push, thread_sensitive=False)(room, online_ids)
    await group_send(page_group(room), {"type": "room.members", **push})
    return count


def _members_push(room, online_ids: list[int]) -> tuple[dict, int]:
    members, count = room_members(room)
    return variants.members_push(room=room, members=members, members_count=count, online_ids=online_ids), count


async def presence_broadcast(*, room) -> None:
    """Push who is online in `room`, rendered once, to its page (`chat.presence`), throttled per
    process and room (chat.presence_pushes)."""
    await presence_pushes().push(room, _presence_send)


async def _presence_send(room) -> int:
    shown, total = await presence_list(room_id=room.pk)
    push = variants.presence_push(shown=shown, total=total)
    await group_send(page_group(room), {"type": "chat.presence", **push})
    return total


async def presence_renew(*, room, user, channel_name: str) -> bool:
    """Mark socket `channel_name` of `user` present in `room` (on connect, then at each
    heartbeat); if that changed who is online (`user` came, or others' entries expired: their
    worker died), push the list: now, or (spaced) a little later, as read then. Returns whether
    it pushed: a socket already in the room's page group then gets the list with the others."""
    if await presence_touch(room_id=room.pk, user=user, channel_name=channel_name):
        await presence_broadcast(room=room)
        return True
    return False


async def presence_leave(*, room, user, channel_name: str) -> None:
    """Remove socket `channel_name` of `user` from `room`; if it was their last, push the list."""
    if await presence_remove(room_id=room.pk, user=user, channel_name=channel_name):
        await presence_broadcast(room=room)
