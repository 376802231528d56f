import asyncio
import json
import logging
import uuid
import weakref
from importlib import import_module

from channels.auth import get_user
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError
from django.template.loader import render_to_string

from .forms import MessageForm
from .models import Room
from .presence import Present, presence_list, presence_remove, presence_touch
from .ratelimits import message_rate_allowed
from .services import (
    membership_join,
    membership_mark_read,
    message_create,
    messages_missed,
    room_may_enter,
    rooms_for_sidebar,
    user_group_name,
)

logger = logging.getLogger(__name__)

# Saves and reads of messages run on the thread pool rather than Channels' single database
# thread: they mostly wait on the database, and messages of different rooms need not queue
# behind each other (a room's row lock keeps its own messages in order).
save_message = database_sync_to_async(message_create, thread_sensitive=False)
read_missed = database_sync_to_async(messages_missed, thread_sensitive=False)
mark_read = database_sync_to_async(membership_mark_read, thread_sensitive=False)
read_sidebar = database_sync_to_async(rooms_for_sidebar, thread_sensitive=False)

COMPOSER_PARTIAL = "chat/room_detail.html#message-form"
STATUS_PARTIAL = "chat/room_detail.html#room-status"
APPEND_PARTIAL = "chat/room_detail.html#messages-append"
LOG_REPLACE_PARTIAL = "chat/room_detail.html#log-replace"
TYPING_PARTIAL = "chat/room_detail.html#typing"
PRESENCE_PARTIAL = "chat/room_detail.html#presence"
SIDEBAR_PARTIAL = "chat/layout.html#sidebar"
SIDEBAR_ROOM_PARTIAL = "chat/layout.html#sidebar-room"

# Close codes (4000-4999 are the application's). htmx's ws extension never retries 4xxx,
# so a refused or ended socket does not reconnect forever.
CLOSE_NOT_AUTHENTICATED = 4001  # no session, or the session ended (log-out, deactivation...)
CLOSE_NOT_A_MEMBER = 4003  # a private room the user is not (or no longer) a member of
CLOSE_ROOM_NOT_FOUND = 4004

TOO_LARGE = "That message is too large to send."
TOO_FAST = "You are sending messages too fast: wait a moment, then send again."
NOT_SAVED = "Your message could not be saved. Try again in a moment."


def _as_seq(value) -> int | None:
    """`value` as a seq (an int, or a string of digits, from 0 to 2**63 - 1), else None."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63:
        return value
    return None


def presence_fragment(shown: list[Present], total: int) -> str:
    """Who is online in a room, as its page shows it: `shown` by name, and how many more."""
    return render_to_string(PRESENCE_PARTIAL, {"online": shown, "more": total - len(shown)})


# When each room's next presence push may go, per process (and event loop): a float (loop
# time), or the task already waiting to push.
_presence_pushes: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict]" = weakref.WeakKeyDictionary()


async def presence_push(room: Room, channel_layer) -> None:
    """Push who is online in `room`, rendered once, to its page group (`chat.presence`).

    Throttled per process and room: at once if the room's last push from this process is far
    enough back, otherwise once when it is (later changes ride along). Pushes are at least
    CHAT_PRESENCE_PUSH_SECONDS apart, and further apart in big rooms (a push to n sockets is n
    copies: at most CHAT_PRESENCE_PUSH_RATE copies a second), so a herd of connects, such as a
    5,000-member room reconnecting after a deploy, costs a few pushes, not one to everyone per
    connect.
    """
    loop = asyncio.get_running_loop()
    pushes = _presence_pushes.setdefault(loop, {})
    due = pushes.get(room.pk, 0.0)
    if isinstance(due, asyncio.Task):
        return
    if due > loop.time():
        pushes[room.pk] = loop.create_task(_presence_push_at(room, channel_layer, due))
        return
    shown, total = await presence_list(room_id=room.pk)
    pushes[room.pk] = loop.time() + max(settings.CHAT_PRESENCE_PUSH_SECONDS, total / settings.CHAT_PRESENCE_PUSH_RATE)
    event = {"type": "chat.presence", "html": presence_fragment(shown, total)}
    await channel_layer.group_send(room.group_name, event)


async def _presence_push_at(room: Room, channel_layer, when: float) -> None:
    loop = asyncio.get_running_loop()
    await asyncio.sleep(when - loop.time())
    _presence_pushes[loop][room.pk] = 0.0
    await presence_push(room, channel_layer)


class SidebarConsumer(AsyncWebsocketConsumer):
    """A member's live socket on a chat page, at `/ws/chat/` (the room index): it keeps the
    page's sidebar, the rooms and direct conversations the user is a member of, up to date.

    It joins the user's group and the members group of each of their rooms. Out, to this socket
    only, rendered per socket (the current room and the unread counts are the reader's own):
    - the whole sidebar on connect and whenever the user's memberships change
      (`sidebar.refresh`, sent by the services that add a membership) or a room is renamed or
      archived (`room.changed`);
    - one room's entry when a message arrives there (`chat.message`: its unread count moves,
      computed from the event's seq and this socket's copy of the user's read marker, no
      query), and when the user reads it in another tab (`membership.read`).
    Nothing the client sends is acted on here. Closes: 4001 when not logged in, or when the
    session ends (`access.check`).
    """

    room: Room | None = None
    joined = False  # whether connect() got as far as joining the groups

    async def dispatch(self, message):
        # Channels closes stale database connections (a thread-pool hop) before every handler.
        # A room event reaches the database only through database_sync_to_async, which does
        # that itself: skip the hop for the most frequent message of all (issue: fan-out cost).
        if message["type"] == "chat.message":
            await self.chat_message(message)
        else:
            await super().dispatch(message)

    async def connect(self):
        await self.accept()
        user = self.scope.get("user")
        self.rooms: dict[int, Room] = {}
        if user is None or not user.is_authenticated:
            logger.info("socket refused: not logged in, %s", self.where())
            await self.close(code=CLOSE_NOT_AUTHENTICATED)
            return
        if not await self.enter(user):
            return
        await self.channel_layer.group_add(user_group_name(user.pk), self.channel_name)
        self.joined = True
        await self.sidebar_load()
        logger.info("socket connected: %s user=%s", self.where(), user.pk)
        await self.send(text_data=await self.connected_fragment())

    def where(self) -> str:
        """Where this socket is, for the log."""
        return "sidebar"

    async def enter(self, user) -> bool:
        """Whether `user` may have this socket (closing it with a code if not)."""
        return True

    async def connected_fragment(self) -> str:
        """What a newly connected socket sends first: its sidebar, as it is now."""
        return self.sidebar_fragment()

    async def disconnect(self, code):
        if not self.joined:
            return
        user = self.scope["user"]
        for room in self.rooms.values():
            await self.channel_layer.group_discard(room.members_group_name, self.channel_name)
        await self.channel_layer.group_discard(user_group_name(user.pk), self.channel_name)
        logger.info("socket disconnected: %s user=%s code=%s", self.where(), user.pk, code)

    async def sidebar_load(self) -> None:
        """Re-read the user's rooms, joining the members group of each new one and leaving
        those of rooms they left. When rooms were added to a loaded sidebar they are read once
        more, after joining: a message sent in between is then either read or received."""
        rooms = {room.pk: room for room in await read_sidebar(self.scope["user"])}
        added = rooms.keys() - self.rooms.keys()
        for room_id in added:
            await self.channel_layer.group_add(rooms[room_id].members_group_name, self.channel_name)
        for room_id in self.rooms.keys() - rooms.keys():
            await self.channel_layer.group_discard(self.rooms[room_id].members_group_name, self.channel_name)
        if added and self.rooms:
            rooms = {room.pk: room for room in await read_sidebar(self.scope["user"])}
        self.rooms = rooms

    def sidebar_fragment(self) -> str:
        context = {"sidebar_rooms": list(self.rooms.values()), "current_room_id": self.room and self.room.pk}
        return render_to_string(SIDEBAR_PARTIAL, context)

    async def sidebar_room_update(self, room: Room, *, last_seq: int = 0, last_read_seq: int = 0) -> None:
        """Move one sidebar room's markers forward and, if its unread count changed, send its
        entry."""
        room.last_seq = max(room.last_seq, last_seq)
        room.last_read_seq = max(room.last_read_seq, last_read_seq)
        unread = max(room.last_seq - room.last_read_seq, 0)
        if unread != room.unread:
            room.unread = unread
            context = {"room": room, "current_room_id": self.room and self.room.pk}
            await self.send(text_data=render_to_string(SIDEBAR_ROOM_PARTIAL, context))

    async def chat_message(self, event):
        """A message in one of the user's rooms: its sidebar entry counts it, unless the user
        wrote it (one's own messages are read)."""
        room = self.rooms.get(event["room"])
        if room is not None:
            own = event["author"] == self.scope["user"].pk
            await self.sidebar_room_update(room, last_seq=event["seq"], last_read_seq=event["seq"] if own else 0)

    async def membership_read(self, event):
        """The user read a room up to a seq (in this tab or another): its entry follows."""
        room = self.rooms.get(event["room"])
        if room is not None:
            await self.sidebar_room_update(room, last_read_seq=event["seq"])

    async def sidebar_refresh(self, event):
        """The user's memberships changed: re-read and re-send the whole sidebar."""
        await self.sidebar_load()
        await self.send(text_data=self.sidebar_fragment())

    async def room_changed(self, event):
        """One of the user's rooms was renamed, described, archived or restored."""
        await self.sidebar_refresh(event)

    async def access_check(self, event):
        """The user's account or sessions changed: close if this socket's session ended."""
        if not await self.session_alive():
            logger.info("socket ended: session over, %s user=%s", self.where(), self.scope["user"].pk)
            await self.close(code=CLOSE_NOT_AUTHENTICATED)

    async def session_alive(self) -> bool:
        """Whether this socket's session still logs in its user (not logged out, deactivated,
        or ended by a password change)."""
        session_key = self.scope["session"].session_key
        store: SessionBase = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
        user = await get_user({"session": store})
        return user.pk == self.scope["user"].pk


class RoomConsumer(SidebarConsumer):
    """One member's live socket on one room's page, at `/ws/chat/<slug>/`: the room, its
    presence, and (as a SidebarConsumer) the page's sidebar.

    In: text frames from the htmx ws extension, JSON objects (their `HEADERS` are ignored):
    - `{"message": str, "key": uuid}` from the composer. The author is always `scope["user"]`;
      any other field (a forged `username`) is ignored.
    - `{"after": int}` from the page's sync form, on every (re)connect and every
      CHAT_SYNC_SECONDS: the seq of the newest message the page shows. It answers with whatever
      the page is missing; it is also the socket's presence heartbeat.
    - `{"typing": true, …}` from the message input, at most every 3 s while its text changes:
      the room's other members are shown "<name> is typing…" (no database write).
    Out: HTML fragments that htmx swaps out of band by id:
    - on connect: the status ("Connected"), the sidebar and who is online in the room.
    - to the room's members, after a message is saved: the message, rendered once for everyone
      (`services.message_broadcast`). Each socket forwards these in seq order, exactly once:
      a duplicate (seq already sent) is dropped, a gap (an event the layer lost or reordered)
      makes this socket send what is missing from the database instead.
    - to the room's page group: who is online, whenever that changes (`chat.presence`, rendered
      once), and who is typing; to the room's members: its new header (and composer) when it is
      renamed or archived (`room.changed`).
    - to the sender only: a fresh composer on success, or the composer with its error and the
      typed text kept when the message is rejected (invalid, frame over CHAT_FRAME_MAX_BYTES,
      over the rate limit, archived room, or not saved because the database failed).
    Presence (chat.presence): the socket is present from connect to disconnect, kept alive by
    each sync; the list is pushed to the room (presence_push) when a user comes or goes (a
    second tab changes nothing) and when a heartbeat finds expired entries (a crashed worker's).
    Closes: 4001 when not logged in or when the session ends (log-out, deactivation, password
    change), 4003 for a private room the user is not or no longer a member of (the per-user
    group tells each socket to check), 4004 for an unknown room, always after accept() so that
    the browser sees the code and does not retry. Opening a public room joins it. Anything else a
    client sends (binary, not JSON, not an object, wrong types) is ignored; the socket stays.
    """

    # The seq of the newest message this socket has sent its reader; None until the reader's
    # first sync says where it stands. Live events before that are dropped: the sync's catch-up,
    # read from the database after they were committed, includes them.
    cursor: int | None = None

    def where(self) -> str:
        return f"room={self.scope['url_route']['kwargs']['slug']}"

    async def enter(self, user) -> bool:
        """Find the room (4004) and check that `user` may enter it (4003; a public room is
        joined); then mark the socket present and join the room's page group."""
        slug = self.scope["url_route"]["kwargs"]["slug"]
        room = await Room.objects.filter(slug=slug).afirst()
        if room is None:
            logger.info("socket refused: no such room, room=%s user=%s", slug, user.pk)
            await self.close(code=CLOSE_ROOM_NOT_FOUND)
            return False
        try:
            await database_sync_to_async(membership_join)(room=room, user=user)
        except PermissionDenied:
            logger.info("socket refused: not a member, room=%s user=%s", slug, user.pk)
            await self.close(code=CLOSE_NOT_A_MEMBER)
            return False
        self.room = room
        await self.presence_renew()
        await self.channel_layer.group_add(self.room.group_name, self.channel_name)
        return True

    async def connected_fragment(self) -> str:
        status = render_to_string(STATUS_PARTIAL, {"connected": True})
        shown, total = await presence_list(room_id=self.room.pk)
        return status + self.sidebar_fragment() + presence_fragment(shown, total)

    async def disconnect(self, code):
        if self.room is not None:
            user = self.scope["user"]
            if self.cursor:
                await mark_read(room=self.room, user=user, seq=self.cursor)
            await self.channel_layer.group_discard(self.room.group_name, self.channel_name)
            await self.presence_leave()
        await super().disconnect(code)

    async def receive(self, text_data=None, bytes_data=None):
        if self.room is None or text_data is None:
            return
        if len(text_data.encode()) > settings.CHAT_FRAME_MAX_BYTES:
            context = {"form": MessageForm(), "error": TOO_LARGE, "room": self.room}
            await self.send(text_data=render_to_string(COMPOSER_PARTIAL, context))
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            return
        if not isinstance(frame, dict):
            return
        if "after" in frame:
            await self.sync(frame["after"])
        elif frame.get("typing") is True:
            await self.typing()
        elif isinstance(frame.get("message"), str):
            await self.post(frame)

    async def sync(self, after) -> None:
        """The reader has messages up to seq `after`: send what it is missing, and move the
        reader's last-read marker to what this socket has shown (so an open room does not count
        as unread; one UPDATE per sync, not per message). The first sync sets this socket's
        cursor (at most the room's newest seq); later ones only catch up. Each sync is also the
        socket's presence heartbeat."""
        if self.cursor is None:
            after = _as_seq(after)
            if after is None:
                return
            last_seq = await Room.objects.filter(pk=self.room.pk).values_list("last_seq", flat=True).aget()
            self.cursor = min(after, last_seq)
        await self.catch_up()
        if self.cursor:
            await mark_read(room=self.room, user=self.scope["user"], seq=self.cursor)
        await self.presence_renew()

    async def catch_up(self) -> None:
        """Send, from the database, the room's messages after this socket's cursor."""
        missed, replace = await read_missed(room=self.room, after=self.cursor)
        if not missed:
            return
        self.cursor = missed[-1].seq
        partial = LOG_REPLACE_PARTIAL if replace else APPEND_PARTIAL
        context = {"history": missed, "messages": missed, "cursor": self.cursor, "room": self.room}
        await self.send(text_data=render_to_string(partial, context))

    async def post(self, frame: dict) -> None:
        """Validate, rate-limit and save a message; answer the sender with its composer."""
        form = MessageForm({"message": frame["message"], "key": frame.get("key")})
        user = self.scope["user"]
        if form.is_valid() and not await message_rate_allowed(user.pk):
            form.add_error(None, TOO_FAST)
        if form.is_valid():
            try:
                await save_message(
                    room=self.room, author=user, body=form.cleaned_data["message"],
                    client_key=form.cleaned_data["key"],
                )
            except ValidationError as error:
                # Nothing was saved under this key: the composer shown with the error gets a
                # new one, so that sending its text again is a new message, not a resend.
                form = MessageForm({"message": frame["message"], "key": uuid.uuid4()})
                form.add_error("message", error.messages)
            except DatabaseError:
                logger.exception("message not saved: room=%s user=%s", self.room.slug, user.pk)
                form.add_error(None, NOT_SAVED)
            else:
                form = MessageForm()
        await self.send(text_data=render_to_string(COMPOSER_PARTIAL, {"form": form, "room": self.room}))

    async def typing(self) -> None:
        """The reader is typing: tell the others in the room (rendered once; no database)."""
        user = self.scope["user"]
        html = render_to_string(TYPING_PARTIAL, {"typist": user.get_username()})
        await self.channel_layer.group_send(
            self.room.group_name, {"type": "chat.typing", "user_id": user.pk, "html": html}
        )

    async def chat_typing(self, event):
        """Someone in the room is typing: show it, unless it is this socket's own user."""
        if event["user_id"] != self.scope["user"].pk and self.cursor is not None:
            await self.send(text_data=event["html"])

    async def chat_message(self, event):
        """A message saved in this room: forward its fragment if it is the next one in order.
        (A message in another of the user's rooms goes to the sidebar.)"""
        if event["room"] != self.room.pk:
            await super().chat_message(event)
            return
        seq = event["seq"]
        if self.cursor is None or seq <= self.cursor:
            return
        if seq == self.cursor + 1:
            self.cursor = seq
            await self.send(text_data=event["html"])
        else:
            await self.catch_up()

    async def room_changed(self, event):
        """A room was renamed or (un)archived: this room's page takes its new header (and
        composer); the sidebar re-reads."""
        if event["room"] == self.room.pk:
            await self.send(text_data=event["html"])
        await super().room_changed(event)

    async def presence_renew(self) -> None:
        """Mark this socket present (on connect, then at each heartbeat); if that changed who
        is online (its user came, or others' entries had expired: a worker died without saying
        goodbye), tell the room. On connect this runs before the socket joins the page group:
        it sends its own list then."""
        if await presence_touch(room_id=self.room.pk, user=self.scope["user"], channel_name=self.channel_name):
            await presence_push(self.room, self.channel_layer)

    async def presence_leave(self) -> None:
        """Remove this socket; if it was its user's last one here, tell the room."""
        if await presence_remove(room_id=self.room.pk, user=self.scope["user"], channel_name=self.channel_name):
            await presence_push(self.room, self.channel_layer)

    async def chat_presence(self, event):
        """Who is online in the room changed: show it."""
        await self.send(text_data=event["html"])

    async def access_check(self, event):
        """The user's account, sessions or memberships changed: close this socket if its session
        ended (4001) or its user may no longer enter this room (4003)."""
        if not await self.session_alive():
            reason, code, context = "session over", CLOSE_NOT_AUTHENTICATED, {"ended": True}
        elif not await database_sync_to_async(room_may_enter)(room=self.room, user=self.scope["user"]):
            reason, code, context = "removed", CLOSE_NOT_A_MEMBER, {"removed": True}
        else:
            return
        logger.info("socket ended: %s, room=%s user=%s", reason, self.room.slug, self.scope["user"].pk)
        await self.send(text_data=render_to_string(STATUS_PARTIAL, context))
        await self.close(code=code)
