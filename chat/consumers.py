import json
import logging
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
from .ratelimits import message_rate_allowed
from .services import (
    membership_join,
    membership_mark_read,
    message_create,
    messages_missed,
    room_may_enter,
    user_group_name,
)

logger = logging.getLogger(__name__)

# Saves and reads of messages run on the thread pool rather than Channels' single database
# thread: they mostly wait on the database, and messages of different rooms need not queue
# behind each other (a room's row lock keeps its own messages in order).
save_message = database_sync_to_async(message_create, thread_sensitive=False)
read_missed = database_sync_to_async(messages_missed, thread_sensitive=False)
mark_read = database_sync_to_async(membership_mark_read, thread_sensitive=False)

COMPOSER_PARTIAL = "chat/room_detail.html#message-form"
STATUS_PARTIAL = "chat/room_detail.html#room-status"
APPEND_PARTIAL = "chat/room_detail.html#messages-append"
LOG_REPLACE_PARTIAL = "chat/room_detail.html#log-replace"
TYPING_PARTIAL = "chat/room_detail.html#typing"

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


class RoomConsumer(AsyncWebsocketConsumer):
    """One member's live socket on one room, at `/ws/chat/<slug>/`.

    In: text frames from the htmx ws extension, JSON objects (their `HEADERS` are ignored):
    - `{"message": str, "key": uuid}` from the composer. The author is always `scope["user"]`;
      any other field (a forged `username`) is ignored.
    - `{"after": int}` from the page's sync form, on every (re)connect and every 25 s: the seq of
      the newest message the page shows. It answers with whatever the page is missing.
    - `{"typing": true, …}` from the message input, at most every 3 s while its text changes:
      the room's other members are shown "<name> is typing…" (no database write).
    Out: HTML fragments that htmx swaps out of band by id:
    - to the room's group, after a message is saved: the message, rendered once for everyone
      (`services.message_broadcast`). Each socket forwards these in seq order, exactly once:
      a duplicate (seq already sent) is dropped, a gap (an event the layer lost or reordered)
      makes this socket send what is missing from the database instead.
    - to the sender only: a fresh composer on success, or the composer with its error and the
      typed text kept when the message is rejected (invalid, frame over CHAT_FRAME_MAX_BYTES,
      over the rate limit, or not saved because the database failed).
    Closes: 4001 when not logged in or when the session ends (log-out, deactivation, password
    change), 4003 for a private room the user is not or no longer a member of (the per-user
    group tells each socket to check), 4004 for an unknown room, always after accept() so that
    the browser sees the code and does not retry. Opening a public room joins it. Anything else a
    client sends (binary, not JSON, not an object, wrong types) is ignored; the socket stays.
    """

    room: Room | None = None
    # The seq of the newest message this socket has sent its reader; None until the reader's
    # first sync says where it stands. Live events before that are dropped: the sync's catch-up,
    # read from the database after they were committed, includes them.
    cursor: int | None = None

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
        slug = self.scope["url_route"]["kwargs"]["slug"]
        if user is None or not user.is_authenticated:
            logger.info("socket refused: not logged in, room=%s", slug)
            await self.close(code=CLOSE_NOT_AUTHENTICATED)
            return
        room = await Room.objects.filter(slug=slug).afirst()
        if room is None:
            logger.info("socket refused: no such room, room=%s user=%s", slug, user.pk)
            await self.close(code=CLOSE_ROOM_NOT_FOUND)
            return
        try:
            await database_sync_to_async(membership_join)(room=room, user=user)
        except PermissionDenied:
            logger.info("socket refused: not a member, room=%s user=%s", slug, user.pk)
            await self.close(code=CLOSE_NOT_A_MEMBER)
            return
        self.room = room
        await self.channel_layer.group_add(self.room.group_name, self.channel_name)
        await self.channel_layer.group_add(user_group_name(user.pk), self.channel_name)
        logger.info("socket connected: room=%s user=%s", slug, user.pk)
        await self.send(text_data=render_to_string(STATUS_PARTIAL, {"connected": True}))

    async def disconnect(self, code):
        if self.room is not None:
            user_id = self.scope["user"].pk
            if self.cursor:
                await mark_read(room=self.room, user=self.scope["user"], seq=self.cursor)
            await self.channel_layer.group_discard(self.room.group_name, self.channel_name)
            await self.channel_layer.group_discard(user_group_name(user_id), self.channel_name)
            logger.info("socket disconnected: room=%s user=%s code=%s", self.room.slug, user_id, code)

    async def receive(self, text_data=None, bytes_data=None):
        if self.room is None or text_data is None:
            return
        if len(text_data.encode()) > settings.CHAT_FRAME_MAX_BYTES:
            context = {"form": MessageForm(), "error": TOO_LARGE}
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
        cursor (at most the room's newest seq); later ones only catch up."""
        if self.cursor is None:
            after = _as_seq(after)
            if after is None:
                return
            last_seq = await Room.objects.filter(pk=self.room.pk).values_list("last_seq", flat=True).aget()
            self.cursor = min(after, last_seq)
        await self.catch_up()
        if self.cursor:
            await mark_read(room=self.room, user=self.scope["user"], seq=self.cursor)

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
                form.add_error("message", error.messages)
            except DatabaseError:
                logger.exception("message not saved: room=%s user=%s", self.room.slug, user.pk)
                form.add_error(None, NOT_SAVED)
            else:
                form = MessageForm()
        await self.send(text_data=render_to_string(COMPOSER_PARTIAL, {"form": form}))

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
        """A message saved in this room: forward its fragment if it is the next one in order."""
        seq = event["seq"]
        if self.cursor is None or seq <= self.cursor:
            return
        if seq == self.cursor + 1:
            self.cursor = seq
            await self.send(text_data=event["html"])
        else:
            await self.catch_up()

    async def access_check(self, event):
        """The user's account, sessions or memberships changed: close this socket if its session
        ended (4001) or its user may no longer enter this room (4003)."""
        session_key = self.scope["session"].session_key
        store: SessionBase = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
        user = await get_user({"session": store})
        if user.pk != self.scope["user"].pk:
            reason, code, context = "session over", CLOSE_NOT_AUTHENTICATED, {"ended": True}
        elif not await database_sync_to_async(room_may_enter)(room=self.room, user=user):
            reason, code, context = "removed", CLOSE_NOT_A_MEMBER, {"removed": True}
        else:
            return
        logger.info("socket ended: %s, room=%s user=%s", reason, self.room.slug, self.scope["user"].pk)
        await self.send(text_data=render_to_string(STATUS_PARTIAL, context))
        await self.close(code=code)
