"""Helpers for the unit, consumer and browser tests: clients and sockets logged in as a user,
the frames a page sends, history set up in the database, and barriers. Fixtures are in the root
conftest.py."""

import json
import uuid

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.utils import timezone

from chat.messages import message_create
from chat.models import Message, Room
from chat.rooms import room_get_or_create
from site_config.asgi import application

__all__ = [
    "SIDE_FRAGMENTS",
    "ChatSocket",
    "add_message",
    "create_room",
    "is_side_fragment",
    "join",
    "logged_in",
    "open_socket",
    "post_barrier",
    "post_frame",
    "session_cookie",
    "sync_frame",
]


def logged_in(user) -> Client:
    """A test client logged in as `user`."""
    client = Client()
    client.force_login(user)
    return client


def session_cookie(user, client: Client | None = None) -> bytes:
    """A `Cookie` header value carrying a fresh logged-in session for `user` (made in `client`,
    if given, so that the test can act in that same session)."""
    client = client or Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


@database_sync_to_async
def create_room(name: str = "Lobby"):
    """The public room called `name` (made if new), from async code."""
    return room_get_or_create(name=name)[0]


def post_frame(message, key: str | None = None, **fields) -> str:
    """A composer frame as htmx's ws extension sends it: the form's fields (a fresh idempotency
    key unless given; any other `fields` too) plus a HEADERS object."""
    data = {"message": message, "key": key or str(uuid.uuid4()), **fields}
    return json.dumps({**data, "HEADERS": {"HX-Request": "true", "HX-Trigger": "message-form"}})


def sync_frame(after: int) -> str:
    """The page's sync frame: it has the room's messages up to seq `after`."""
    return json.dumps({"after": str(after), "HEADERS": {"HX-Request": "true", "HX-Trigger": "sync"}})


# Fragments a chat page receives beside its room's traffic: who is online and the sidebar.
SIDE_FRAGMENTS = ('<div id="presence"', '<nav id="sidebar"', '<li id="sidebar-room-')


def is_side_fragment(frame: str) -> bool:
    """Whether `frame` is only presence or sidebar news (no message, composer or status)."""
    return frame.lstrip().startswith(SIDE_FRAGMENTS)


class ChatSocket(WebsocketCommunicator):
    """A WebsocketCommunicator that, like a reader busy with the room, passes over presence and
    sidebar fragments: receive_from() returns the next other frame. Tests of presence and of
    the sidebar read those with receive_side().

    To show that something did not arrive, send something that must arrive after it (a
    barrier: post_barrier) and read what came before it (frames_before), rather than wait a
    while for nothing. A consumer handles its events one at a time, in the order the channel
    layer delivered them to its channel: in order of sending.

    Note: a receive that times out also cancels the consumer (Channels' communicator).
    """

    held: list[str] | None = None  # a frame receive_nothing() took from the queue, kept for receive_from()

    async def receive_from(self, timeout=1):
        if self.held:
            return self.held.pop(0)
        while True:
            frame = await super().receive_from(timeout)
            if not is_side_fragment(frame):
                return frame

    async def receive_side(self, timeout=1) -> str:
        """The next frame, which must be a presence or sidebar fragment."""
        frame = await super().receive_from(timeout)
        assert is_side_fragment(frame), frame
        return frame

    async def frames_before(self, marker: str, *, side: bool = False, timeout: float = 2) -> list[str]:
        """The frames received before the first one holding `marker`, which must come within
        `timeout` seconds; presence and sidebar news left out, unless `side`."""
        frames = list(self.held or [])
        self.held = None
        while not any(marker in frame for frame in frames):
            frames.append(await super().receive_from(timeout))
        before = frames[: next(i for i, frame in enumerate(frames) if marker in frame)]
        return before if side else [frame for frame in before if not is_side_fragment(frame)]

    async def receive_nothing(self, timeout=0.1, interval=0.01):
        """Whether nothing but presence and sidebar news arrives in `timeout` seconds. Prefer
        a barrier (frames_before): a time without news proves little on a loaded machine."""
        if self.held:
            return False
        while not await super().receive_nothing(timeout, interval):
            output = await self.receive_output()
            if output["type"] != "websocket.send" or not is_side_fragment(output.get("text") or ""):
                # Not ours to drop: put back what receive_from() would have read.
                if output["type"] != "websocket.send":
                    await self.output_queue.put(output)
                else:
                    self.held = [output["text"]]
                return False
        return True

    async def receive_nothing_at_all(self, timeout=0.3) -> bool:
        """Whether nothing at all arrives, presence and sidebar fragments included. Prefer a
        barrier (frames_before with `side=True`)."""
        return not self.held and await super().receive_nothing(timeout)


async def open_socket(room_slug: str | None, user=None, origin: bytes = b"http://localhost", client=None):
    """Open `/ws/chat/<room_slug>/` (`/ws/chat/`, the sidebar's, when `room_slug` is None)
    through the real ASGI stack (origin check, session auth), logged in as `user` in a new
    session (made in the test `client`, if given).

    Returns `(communicator, connected)`, a ChatSocket; the caller must `await
    communicator.disconnect()`.
    """
    headers = [(b"origin", origin)]
    if user is not None:
        headers.append((b"cookie", await database_sync_to_async(session_cookie)(user, client)))
    path = "/ws/chat/" if room_slug is None else f"/ws/chat/{room_slug}/"
    communicator = ChatSocket(application, path, headers=headers)
    connected, _subprotocol = await communicator.connect()
    return communicator, connected


async def join(room_slug: str, user, after: int | None = 0, client=None) -> ChatSocket:
    """Open a member's socket on a room as its page does: read the "Connected" status, then
    send the page's sync frame saying it has messages up to seq `after` (None: send none).

    Returns the communicator; the caller must `await communicator.disconnect()`.
    """
    communicator, connected = await open_socket(room_slug, user, client=client)
    assert connected
    status = await communicator.receive_from()
    assert 'id="room-status"' in status and "Connected" in status
    if after is not None:
        await communicator.send_to(text_data=sync_frame(after))
    return communicator


async def post_barrier(room, author) -> str:
    """Post a message by `author` in `room` through the service (so pushed to the room's
    members once committed) and return its text: the marker of a barrier (frames_before)."""
    body = f"barrier {uuid.uuid4()}"
    await database_sync_to_async(message_create)(room=room, author=author, body=body)
    return body


def add_message(room, author, body: str, created_at=None):
    """Store a message as the service would (next seq, room activity moved) but at any time:
    for history a test sets up. Sends nothing."""
    room.refresh_from_db(fields=["last_seq"])
    message = Message.objects.create(
        room=room, author=author, body=body, seq=room.last_seq + 1, created_at=created_at or timezone.now()
    )
    Room.objects.filter(pk=room.pk).update(last_seq=message.seq, last_message_at=message.created_at)
    room.last_seq = message.seq
    return message
