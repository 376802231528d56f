"""The socket of a room's page: its messages, presence and typing."""

import logging

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone

from .. import broadcasts, fragments, frames, variants
from ..composer import composer_discard, composer_reply, composer_too_large
from ..cursor import Cursor, Verdict
from ..express import text_frame
from ..heartbeat import heartbeat
from ..memberships import membership_admit
from ..models import Room
from ..presence import presence_list
from ..presence_pushes import presence_leave, presence_renew
from ..unseen import Unseen
from ..variant_rooms import variant_missed, variant_note
from .base import CLOSE_ROOM_NOT_FOUND
from .room_log import RoomLog
from .sidebar import SidebarConsumer

logger = logging.getLogger("chat.consumers")

# A newcomer's admission runs on Channels' database thread.
room_admission = database_sync_to_async(membership_admit)


class RoomConsumer(RoomLog, SidebarConsumer):
    """One member's socket on one room's page, at `/ws/chat/<slug>/`: the room's messages,
    presence and typing, (as a RoomLog) its log kept whole, and (as a SidebarConsumer) the page's sidebar.

    In (frames.frame_parse): `Post` from the composer or a refused message's card (the author is always
    `scope["user"]`), `Discard` from a card, `Sync` from the page's sync form on every (re)connect and every
    CHAT_SYNC_SECONDS (answered with what the page is missing; also the presence heartbeat), `Typing`, `Scrolled`
    (what "Jump to latest" counts: chat.unseen); nothing else. Each frame re-checks access (AccessGate); a flood
    closes with 1008.
    Out: on connect the status, sidebar, tab title and who is online; each message once, in seq order
    (`Cursor`); presence, typing, the header; the sender's composer. Closes 4004, 4003 (removed), 4001."""

    room: Room | None = None
    has_composer = True
    presence_pushed = False  # whether its arrival pushed who is online to the room's page (admit)
    joined_early = False  # whether groups_early joined the room's groups with the channel layer up
    posting = False  # whether the frame being handled is a Post: it reads and writes nothing of the log

    def where(self) -> str:
        return f"room={self.scope['url_route']['kwargs']['slug']}"

    async def groups_early(self) -> None:
        """The room's two groups, named by the URL's slug, joined before the sidebar's read (and any
        admission's): what is committed after that read reaches this socket as an event, so the read's
        seqs and the events' are the room's newest (RoomLog.seqs_known: no query at the first sync), and
        the push of who is online that its arrival makes reaches it too (admit). Left if it is refused."""
        self.cursor, self.changes = Cursor(), Cursor()  # the messages, the room's edits and deletions (chat.changes)
        slug = self.scope["url_route"]["kwargs"]["slug"]
        if len(slug) <= Room.SLUG_MAX_LENGTH:  # no room's is longer (a group's name is under 100 characters)
            await self.group_join(broadcasts.members_group(slug))
            await self.group_join(broadcasts.page_group(slug))
            self.joined_early = not broadcasts.layer_breaker.failing

    async def admit(self, user) -> bool:
        """Admit `user` to the room, else close; then mark the socket present. A member's room is in
        their sidebar, just read; anyone else's is read by room_admission, which joins a public room
        (the sidebar is then read again, with it). Both reads follow groups_early."""
        self.unseen = Unseen(user.pk)  # what "Jump to latest" counts (chat.unseen)
        slug = self.scope["url_route"]["kwargs"]["slug"]
        room = self.sidebar.room_at(slug)
        if room is None and (room := await room_admission(slug=slug, user=user)) is not None:
            await self.sidebar_load()
        if room is None:
            logger.info("socket refused: no such room or not a member, %s user=%s", self.where(), user.pk)
            for group in (broadcasts.members_group(slug), broadcasts.page_group(slug)):
                if group in self.groups:
                    await self.group_leave(group)
            await self.close(code=CLOSE_ROOM_NOT_FOUND)
            return False
        self.room = self.gate.room = room
        self.gate.room_admitted = True  # read and admitted just now, after the user's group was joined
        self.budget = frames.FrameBudget(rate=settings.CHAT_FRAME_RATE, burst=settings.CHAT_FRAME_BURST)
        self.sidebar.current_room_id = room.pk
        self.seqs_admitted = (room.last_seq, room.last_change_seq) if self.joined_early else None
        if entry := self.sidebar.entries.get(room.pk):
            self.marked = entry.last_read_seq  # the reader's marker, as read: no write until the cursor passes it
        self.presence_pushed = await presence_renew(room=room, user=self.scope["user"], channel_name=self.channel_name)
        await variant_note(room_id=room.pk, key=self.variant.key)
        heartbeat().add(self)
        return True

    async def connected_fragment(self) -> str:
        """The status, sidebar and tab title; who is online too, unless the arrival's push brings it (admit:
        in a crowd arriving, each connect changes the list, and a push renders it once for all)."""
        html = fragments.status("connected", composer=True) + self.sidebar_fragment() + self.title_fragment()
        if self.presence_pushed:
            return html
        shown, total = await presence_list(room_id=self.room.pk)
        return html + fragments.presence(shown=shown, total=total)

    def title_fragment(self) -> str:
        """The tab title: this room's title, after the unread count of the reader's other rooms."""
        title = self.sidebar.title(self.room.pk, self.room.name)
        return fragments.page_title(title=title, unread=self.sidebar.unread_elsewhere())

    async def disconnect(self, code):
        if self.room is not None:
            heartbeat().discard(self)
            await self.mark_read()
            await presence_leave(room=self.room, user=self.scope["user"], channel_name=self.channel_name)
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
            await self.sync(frame.after, frame.changes)
        elif isinstance(frame, frames.Typing):
            if not self.room.is_archived:
                await broadcasts.typing_broadcast(room=self.room, user=self.scope["user"])
        elif isinstance(frame, frames.Post):
            self.posting = True  # the room's next message may be written meanwhile (hub_express)
            try:
                answer = await composer_reply(room=self.room, user=self.scope["user"], post=frame)
            finally:
                self.posting = False
            await self.send(text_data=answer)
        elif isinstance(frame, frames.Discard):
            await self.send(text_data=composer_discard(frame))
        elif isinstance(frame, frames.Scrolled):
            if label := self.unseen.scrolled(up=frame.up):
                await self.send(text_data=label)
        else:
            await self.send(text_data=composer_too_large())

    async def chat_message(self, event):
        """A message saved in one of the user's rooms: this room's is forwarded if it is the next
        in order (a gap, or a push not rendered for this variant, is read); another room's goes to the sidebar."""
        if self.room is None or event["room"] != self.room.pk:  # (None: refused, its early groups' last events)
            await super().chat_message(event)
            return
        verdict = self.cursor.receive(event["seq"], readable=variants.push_readable(event, self.variant))
        if verdict is Verdict.FORWARD:
            await self.send(text_data=variants.push_html(event, self.variant))
            if variant_missed(event, self.variant.key):
                await variant_note(room_id=self.room.pk, key=self.variant.key, heal=True)
            if label := self.unseen.arrived([event["author"]]):
                await self.send(text_data=label)
        elif verdict is Verdict.GAP and self.inline:
            self.defer(event)  # the catch-up reads the database: not in the hub's turn
        elif verdict is Verdict.GAP:
            await self.catch_up()

    def hub_express(self, event: dict, frames: dict) -> bool:
        """ChatSocket.hub_express, with chat_message's forward inlined (the hub's cost per copy in a big
        room): this room's next message, to a reader not scrolled up, in a variant its push was
        rendered for (a missed variant's frame is kept as b"": chat_message renders and notes it); to
        an idle socket, or one posting (its own message: a Post's handling reads and writes nothing
        of the log, so the copy need not wait behind its composer's answer)."""
        if event["type"] != "chat.message":
            return super().hub_express(event, frames)
        seq, cursor, key = event["seq"], self.cursor, self.variant_key
        if cursor.seq != seq - 1 or event["room"] != self.room.id or self.unseen.up:
            return False  # not the next (or before the first sync), another room's, or counted unseen
        if self.queued or (self.turn.locked() and not self.posting) or self.express is None:
            return False  # the socket busy (but posting: its own message), or its frames go through the server
        if (data := frames.get(key)) is None:
            missed = variant_missed(event, key)
            data = frames[key] = b"" if missed else text_frame(variants.push_html(event, self.variant))
        if not data or not self.express.write(data):
            return False
        cursor.seq = seq  # as Cursor.receive's FORWARD
        return True

    def express_ready(self, event: dict) -> bool:
        """What else the hub may write directly: someone else's typing once synced, presence, members, reactions."""
        kind = event["type"]
        if self.room is None:
            return False  # refused: its early groups' last events
        shown = kind == "chat.typing" and self.typing_shown(event)
        return shown or kind in ("chat.presence", "room.members", "chat.reactions")

    def typing_shown(self, event) -> bool:
        """Whether `chat.typing` is shown here: someone else's, once the page has synced."""
        return event["user_id"] != self.scope["user"].pk and self.cursor.seq is not None

    async def chat_typing(self, event):  # someone in the room is typing: show it (typing_shown)
        if self.typing_shown(event):
            await self.send(text_data=variants.push_html(event, self.variant))

    async def room_members(self, event):
        """Someone joined or left (the member list), who is online changed (`chat.presence`), or a
        message's reactions (`chat.reactions`): show the push, in this socket's variant (once admitted)."""
        if self.room is not None:
            await self.send(text_data=variants.push_html(event, self.variant))

    chat_presence = chat_reactions = room_members

    async def room_changed(self, event):
        """A room was renamed or (un)archived: this page takes its new header (and composer)."""
        if self.room is not None and event["room"] == self.room.pk:
            self.room.archived_at = timezone.now() if event["archived"] else None
            await self.send(text_data=variants.push_html(event, self.variant))
        await super().room_changed(event)
