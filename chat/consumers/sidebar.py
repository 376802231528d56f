"""The socket of any chat page: the reader's live sidebar."""

import logging

from site_config.batches import ThreadBatch

from .. import broadcasts, fragments
from ..access import AccessGate
from ..sidebar import Sidebar, sidebars_entries
from .base import CLOSE_NOT_AUTHENTICATED, ChatSocket

logger = logging.getLogger("chat.consumers")

# On the thread pool, in batches (site_config.batches): a crowd's sockets read their
# sidebars together, one hop and one statement a batch.
read_sidebar = ThreadBatch(sidebars_entries)


class SidebarConsumer(ChatSocket):
    """A member's socket on any chat page, at `/ws/chat/` (the room index): it keeps the page's
    sidebar (their rooms and direct conversations, with unread counts) up to date.

    Joins the user's group and each of their rooms' members group. Sends, to this socket only:
    the whole sidebar on connect and when their memberships change (`sidebar.refresh`) or a
    room of theirs changes (`room.changed`); one entry when a message arrives in one of their
    rooms (`chat.message`: counted from the event's seq and mentions, no query) or they read it elsewhere
    (`membership.read`). Acts on nothing the client sends. Closes 4001 when not logged in, or
    when the session ends (`access.check`, and its AccessGate).
    """

    sidebar_sent = ""  # the whole sidebar as this socket last rendered it for its page

    async def connect(self):
        await self.accept()
        self.sidebar = Sidebar()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            logger.info("socket refused: not logged in, %s", self.where())
            await self.close(code=CLOSE_NOT_AUTHENTICATED)
            return
        # The user's group first, then the reads and checks: an ending committed after them
        # still arrives. The sidebar's read is the room page's admission of a member (admit).
        await self.group_join(broadcasts.user_group(user.pk))
        await self.groups_early()
        self.gate = AccessGate(self.scope)
        await self.sidebar_load()
        if not await self.admit(user) or not await self.access_ok(first=True):
            return
        logger.info("socket connected: %s user=%s", self.where(), user.pk)
        await self.send(text_data=await self.connected_fragment())

    async def disconnect(self, code):
        # Channels leaves every group in self.groups before calling this.
        logger.info("socket disconnected: %s code=%s", self.where(), code)

    def where(self) -> str:
        """Where this socket is, for the log."""
        return "sidebar"

    async def groups_early(self) -> None:
        """Join, before the sidebar's read, the groups whose news that read must not miss: none here."""

    async def admit(self, user) -> bool:
        """Whether `user` may have this socket (closing it with a code if not)."""
        return True

    async def connected_fragment(self) -> str:
        """What a newly connected socket sends first."""
        return self.sidebar_fragment()

    async def sidebar_load(self) -> None:
        """Re-read the user's rooms, joining the members group of each new one and leaving those
        of rooms they left. When rooms were added to a loaded sidebar they are read once more,
        after joining: a message sent in between is then either read or received."""
        loaded = bool(self.sidebar.entries)
        previous = dict(self.sidebar.entries)
        added, removed = self.sidebar.replace(await read_sidebar(self.scope["user"]))
        for room_id in added:
            await self.group_join(broadcasts.members_group(self.sidebar.entries[room_id].room))
        for room_id in removed:
            await self.group_leave(broadcasts.members_group(previous[room_id].room))
        if added and loaded:
            self.sidebar.replace(await read_sidebar(self.scope["user"]))

    def title_fragment(self) -> str:
        """The page's tab title, if this socket keeps it (a room's page does: RoomConsumer)."""
        return ""

    def sidebar_fragment(self) -> str:
        self.sidebar_sent = fragments.sidebar(
            entries=self.sidebar.ordered(), current_room_id=self.sidebar.current_room_id
        )
        return self.sidebar_sent

    async def sidebar_entry_send(self, entry) -> None:
        if entry is not None:
            self.sidebar_sent = ""  # the page's sidebar is no longer the one last sent whole
            html = fragments.sidebar_entry(entry=entry, current_room_id=self.sidebar.current_room_id)
            await self.send(text_data=html + self.title_fragment())

    async def chat_message(self, event):
        """A message in one of the user's rooms: its entry counts it, unless the user wrote it, and
        counts it as a mention too if the event names the user among those it mentions."""
        user_id = self.scope["user"].pk
        own, mentioned = event["author"] == user_id, user_id in event.get("mentions", ())
        entry = self.sidebar.move(
            event["room"], last_seq=event["seq"], last_read_seq=event["seq"] if own else 0, mentioned=mentioned
        )
        await self.sidebar_entry_send(entry)

    async def membership_read(self, event):
        """The user read a room up to a seq (in this tab or another): its entry follows."""
        await self.sidebar_entry_send(self.sidebar.move(event["room"], last_read_seq=event["seq"]))

    async def sidebar_refresh(self, event):
        """The user's memberships changed: re-read the sidebar, and re-send it if it changed (a
        socket hears of its own user joining the room it opens, and need not send it again)."""
        await self.sidebar_load()
        await self.sidebar_send()

    async def sidebar_send(self) -> None:
        before = self.sidebar_sent
        if self.sidebar_fragment() != before:
            await self.send(text_data=self.sidebar_sent + self.title_fragment())

    async def room_changed(self, event):
        """One of the user's rooms was renamed, described, archived or restored."""
        await self.sidebar_refresh(event)

    async def access_check(self, event):
        """The user's account, sessions or memberships changed: check now."""
        await self.access_ok(full=True)
