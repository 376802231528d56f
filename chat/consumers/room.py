"""The socket of a room's page: its messages, presence and typing."""

import logging

from channels.db import database_sync_to_async
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from .. import broadcasts, fragments, frames, selectors
from ..composer import composer_submit, composer_too_large
from ..cursor import Cursor, Verdict
from ..heartbeat import heartbeat
from ..memberships import membership_join, membership_mark_read
from ..models import Room
from ..presence import presence_list
from .base import CLOSE_ROOM_NOT_FOUND
from .sidebar import SidebarConsumer

logger = logging.getLogger("chat.consumers")

# Reads and marker moves run on the thread pool rather than Channels' single database thread.
read_missed = database_sync_to_async(selectors.messages_missed, thread_sensitive=False)
mark_read = database_sync_to_async(membership_mark_read, thread_sensitive=False)


@database_sync_to_async
def room_admission(*, slug: str, user) -> Room | None:
    """The room at `slug` if it admits `user` (opening a public room's socket joins it), else None:
    no such room and a private room they are not in are answered alike (CLOSE_ROOM_NOT_FOUND),
    so that a socket cannot tell whether a private room exists."""
    room = Room.objects.filter(slug=slug).first()
    if room is None:
        return None
    try:
        membership_join(room=room, user=user)
    except PermissionDenied:
        return None
    return room


class RoomConsumer(SidebarConsumer):
    """One member's socket on one room's page, at `/ws/chat/<slug>/`: the room's messages,
    presence and typing, and (as a SidebarConsumer) the page's sidebar.

    In (frames.frame_parse): `Post` from the composer (the author is always `scope["user"]`),
    `Sync` from the page's sync form on every (re)connect and every CHAT_SYNC_SECONDS (answered
    with what the page is missing; also the presence heartbeat), `Typing`; nothing else. Each
    frame re-checks access (AccessGate); a flood closes with 1008 (frames.FrameBudget).
    Out: on connect the status, sidebar and presence; each message once, in seq order (`Cursor`);
    presence, typing, the header; the sender's composer. Closes 4004, 4003 (removed), 4001."""

    room: Room | None = None
    has_composer = True

    def where(self) -> str:
        return f"room={self.scope['url_route']['kwargs']['slug']}"

    async def admit(self, user) -> bool:
        """Admit `user` to the room (room_admission), else close; then mark the socket present
        and join the room's page group."""
        self.cursor = Cursor()
        room = await room_admission(slug=self.scope["url_route"]["kwargs"]["slug"], user=user)
        if room is None:
            logger.info("socket refused: no such room or not a member, %s user=%s", self.where(), user.pk)
            await self.close(code=CLOSE_ROOM_NOT_FOUND)
            return False
        self.room = self.gate.room = room
        self.budget = frames.FrameBudget(rate=settings.CHAT_FRAME_RATE, burst=settings.CHAT_FRAME_BURST)
        self.sidebar.current_room_id = room.pk
        await broadcasts.presence_renew(room=self.room, user=self.scope["user"], channel_name=self.channel_name)
        await self.group_join(broadcasts.page_group(room))
        heartbeat().add(self)
        return True

    async def connected_fragment(self) -> str:
        shown, total = await presence_list(room_id=self.room.pk)
        return fragments.status("connected") + self.sidebar_fragment() + fragments.presence(shown=shown, total=total)

    async def disconnect(self, code):
        if self.room is not None:
            heartbeat().discard(self)
            if self.cursor.seq:
                await mark_read(room=self.room, user=self.scope["user"], seq=self.cursor.seq)
            await broadcasts.presence_leave(room=self.room, user=self.scope["user"], channel_name=self.channel_name)
        await super().disconnect(code)

    async def receive(self, text_data=None, bytes_data=None):
        if self.room is None:
            return
        if not self.budget.take():
            if self.budget.exhausted:
                logger.info("socket ended: frame flood, %s user=%s", self.where(), self.scope["user"].pk)
                await self.close(code=1008)  # policy violation
            return
        frame = frames.frame_parse(text_data, max_bytes=settings.CHAT_FRAME_MAX_BYTES)
        if frame is None or not await self.access_ok(full=False):
            return
        if isinstance(frame, frames.Sync):
            await self.sync(frame.after)
        elif isinstance(frame, frames.Typing):
            if not self.room.is_archived:
                await broadcasts.typing_broadcast(room=self.room, user=self.scope["user"])
        elif isinstance(frame, frames.Post):
            form = await composer_submit(room=self.room, user=self.scope["user"], post=frame)
            await self.send(text_data=fragments.composer(room=self.room, form=form))
        else:
            await self.send(text_data=composer_too_large(room=self.room))

    async def sync(self, after: int) -> None:
        """The page has messages up to seq `after`: the first sync starts the cursor. Each re-adds
        the socket's groups (after a layer outage), sends what the page is missing,
        moves the read marker to what it has (one UPDATE a sync, not a message), and is the
        socket's presence heartbeat."""
        if self.cursor.seq is None:
            last_seq = await database_sync_to_async(selectors.room_last_seq)(self.room.pk)
            self.cursor.start(after=after, last_seq=last_seq)
        await self.groups_renew()
        await self.catch_up()
        if self.cursor.seq:
            await mark_read(room=self.room, user=self.scope["user"], seq=self.cursor.seq)
        await broadcasts.presence_renew(room=self.room, user=self.scope["user"], channel_name=self.channel_name)

    async def catch_up(self) -> None:
        """Send, from the database, the room's messages after this socket's cursor."""
        lines, replace = await read_missed(room=self.room, after=self.cursor.seq)
        if not lines:
            return
        self.cursor.caught_up(cursor := lines[-1].message.seq)
        title = self.sidebar.title(self.room.pk, self.room.name)
        html = fragments.log_replace(room=self.room, title=title, lines=lines, cursor=cursor) if replace else None
        await self.send(text_data=html or fragments.messages_append(lines=lines, cursor=cursor))

    async def chat_message(self, event):
        """A message saved in one of the user's rooms: this room's is forwarded if it is the
        next one in order (a gap is caught up); another room's goes to the sidebar."""
        if event["room"] != self.room.pk:
            await super().chat_message(event)
            return
        verdict = self.cursor.receive(event["seq"])
        if verdict is Verdict.FORWARD:
            await self.send(text_data=event["html"])
        elif verdict is Verdict.GAP:
            await self.catch_up()

    async def chat_typing(self, event):
        """Someone in the room is typing: show it, unless it is this socket's own user."""
        if event["user_id"] != self.scope["user"].pk and self.cursor.seq is not None:
            await self.send(text_data=event["html"])

    async def chat_presence(self, event):
        """Who is online in the room changed: show it."""
        await self.send(text_data=event["html"])

    async def room_changed(self, event):
        """A room was renamed or (un)archived: this room's page takes its new header (and
        composer); the sidebar re-reads."""
        if event["room"] == self.room.pk:
            self.room.archived_at = timezone.now() if event["archived"] else None
            await self.send(text_data=event["html"])
        await super().room_changed(event)
