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


def session_cookie(user, client: Client | None = None) -> bytes:
    """A `Cookie` header value carrying a fresh logged-in session for `user` (made in `client`,
    if given, so that the test can act in that same session)."""
    client = client or Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


async def open_socket(room_slug: str, user=None, origin: bytes = b"http://localhost", client=None):
    """Open `/ws/chat/<room_slug>/` through the real ASGI stack (origin check, session auth),
    logged in as `user` in a new session (made in the test `client`, if given).

    Returns `(communicator, connected)`; the caller must `await communicator.disconnect()`.
    """
    headers = [(b"origin", origin)]
    if user is not None:
        headers.append((b"cookie", await database_sync_to_async(session_cookie)(user, client)))
    communicator = WebsocketCommunicator(application, f"/ws/chat/{room_slug}/", headers=headers)
    connected, _subprotocol = await communicator.connect()
    return communicator, connected


@pytest.fixture
async def fresh_in_memory_layer():
    """Empty the in-memory channel layer after a consumer test: no group or queue (bound to
    that test's event loop) survives into the next one."""
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
