"""Fixtures shared by the unit, consumer and browser tests."""

import json

import pytest
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from site_config.asgi import application


@pytest.fixture
def make_user(db):
    """Create a user: `make_user("ana")`."""

    def make(username: str, password: str = "correct horse battery"):
        return get_user_model().objects.create_user(username=username, password=password)

    return make


@pytest.fixture
def people(make_user):
    """Three users: ana, bea and cy."""
    return make_user("ana"), make_user("bea"), make_user("cy")


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


# Fragments a chat page receives beside its room's traffic: who is online and the sidebar.
SIDE_FRAGMENTS = ('<div id="presence"', '<nav id="sidebar"', '<li id="sidebar-room-')


def is_side_fragment(frame: str) -> bool:
    """Whether `frame` is only presence or sidebar news (no message, composer or status)."""
    return frame.lstrip().startswith(SIDE_FRAGMENTS)


class ChatSocket(WebsocketCommunicator):
    """A WebsocketCommunicator that, like a reader busy with the room, passes over presence and
    sidebar fragments: receive_from() returns the next other frame, receive_nothing() ignores
    them. Tests of presence and of the sidebar read those with receive_side()."""

    held: list[str] | None = None  # a frame receive_nothing() took from the queue, kept for receive_from()

    async def receive_from(self, timeout=1):
        if self.held:
            return self.held.pop(0)
        while True:
            frame = await super().receive_from(timeout)
            if not is_side_fragment(frame):
                return frame

    async def receive_nothing(self, timeout=0.1, interval=0.01):
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
        """Whether nothing at all arrives, presence and sidebar fragments included."""
        return not self.held and await super().receive_nothing(timeout)

    async def receive_side(self, timeout=1) -> str:
        """The next frame, which must be a presence or sidebar fragment."""
        frame = await super().receive_from(timeout)
        assert is_side_fragment(frame), frame
        return frame


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


@pytest.fixture
async def fresh_in_memory_layer():
    """Start a consumer test with no one present in any room, and empty the in-memory channel
    layer after it: no group or queue (bound to that test's event loop) survives into the next
    one."""
    from chat.presence import presence_reset

    await presence_reset()
    yield
    layer = get_channel_layer()
    if isinstance(layer, InMemoryChannelLayer):
        await layer.flush()


async def join(room_slug: str, user, after: int | None = 0, client=None):
    """Open a member's socket on a room as its page does: read the "Connected" status, then
    send the page's sync frame saying it has messages up to seq `after` (None: send none).

    Returns the communicator; the caller must `await communicator.disconnect()`.
    """
    communicator, connected = await open_socket(room_slug, user, client=client)
    assert connected
    status = await communicator.receive_from()
    assert 'id="room-status"' in status and "Connected" in status
    if after is not None:
        await communicator.send_to(text_data=json.dumps({"after": str(after), "HEADERS": {"HX-Trigger": "sync"}}))
    return communicator


def add_message(room, author, body: str, created_at=None):
    """Store a message as the service would (next seq, room activity moved) but at any time:
    for history a test sets up. Sends nothing."""
    from django.utils import timezone

    from chat.models import Message, Room

    room.refresh_from_db(fields=["last_seq"])
    message = Message.objects.create(
        room=room, author=author, body=body, seq=room.last_seq + 1, created_at=created_at or timezone.now()
    )
    Room.objects.filter(pk=room.pk).update(last_seq=message.seq, last_message_at=message.created_at)
    room.last_seq = message.seq
    return message
