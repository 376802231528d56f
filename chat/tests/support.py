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


# The key of the blank message ChatSocket.settle sends (a valid UUID: only the text is refused).
SETTLE_KEY = "00000000-5e77-4e00-8000-000000000000"

# Fragments a chat page receives beside its room's traffic: who is online and the sidebar.
SIDE_FRAGMENTS = (
    '<div id="presence"',
    '<nav id="sidebar"',
    '<li id="sidebar-room-',
    '<span id="members-count"',
    '<span hx-swap-oob="innerHTML:#page-title"',
)


def is_side_fragment(frame: str) -> bool:
    """Whether `frame` is only presence, sidebar, member list or tab title news (no message,
    composer or status)."""
    return frame.lstrip().startswith(SIDE_FRAGMENTS)


class ChatSocket(WebsocketCommunicator):
    """A WebsocketCommunicator that, like a reader busy with the room, passes over presence and
    sidebar fragments: receive_from() returns the next other frame. Tests of presence and of
    the sidebar read those with receive_side().

    To show that something did not arrive, make something arrive that must come after it (a
    barrier) and look at what came before (frames_before), rather than wait a while for
    nothing. A consumer handles one event at a time: the channel layer's in the order they were
    sent, and its socket's frames in the order sent (each answered before the next), but the two
    streams interleave in no set order. So the barrier for a layer event is a later layer event
    (post_barrier), and for what a frame does, the answer to a later frame on the same socket.

    Note: a receive that times out also cancels the consumer (Channels' communicator).
    """

    user = None  # whom the socket is logged in as (open_socket)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.held: list[str] = []  # frames read ahead (settle, receive_nothing), for the next receives

    async def next_frame(self, timeout: float = 1) -> str:
        """The next frame, whatever it is."""
        return self.held.pop(0) if self.held else await super().receive_from(timeout)

    async def receive_from(self, timeout=1):
        while is_side_fragment(frame := await self.next_frame(timeout)):
            pass
        return frame

    async def receive_side(self, timeout=1) -> str:
        """The next frame, which must be a presence or sidebar fragment."""
        frame = await self.next_frame(timeout)
        assert is_side_fragment(frame), frame
        return frame

    async def frames_before(self, marker: str, *, side: bool = False, timeout: float = 2) -> list[str]:
        """The frames received before the first one holding `marker` (a barrier), which must
        come within `timeout` seconds; presence and sidebar news left out, unless `side`."""
        before = []
        while marker not in (frame := await self.next_frame(timeout)):
            before.append(frame)
        return before if side else [frame for frame in before if not is_side_fragment(frame)]

    async def frames_so_far(self, timeout: float = 2) -> list[str]:
        """Every frame received until the consumer has handled all the frames sent to it so far:
        sends a blank message (refused, answered to this socket only, stored nowhere) and reads
        up to its answer. (Not what those frames sent through the channel layer: post_barrier.)"""
        await self.send_to(text_data=post_frame(" ", SETTLE_KEY))
        frames = []
        while SETTLE_KEY not in (frame := await self.next_frame(timeout)):
            frames.append(frame)
        return frames

    async def settle(self, timeout: float = 2) -> None:
        """Return once the consumer has handled every frame sent so far, keeping the frames
        received meanwhile for the next receives."""
        self.held = await self.frames_so_far(timeout)

    async def receive_nothing(self, timeout=0.1, interval=0.01):
        """Whether nothing but presence and sidebar news arrives in `timeout` seconds. Prefer
        a barrier (frames_before): a quiet while proves little on a loaded machine."""
        self.held = [frame for frame in self.held if not is_side_fragment(frame)]
        if self.held:
            return False
        while not await super().receive_nothing(timeout, interval):
            output = await self.receive_output()
            if output["type"] != "websocket.send":
                await self.output_queue.put(output)  # not ours to drop (a close)
                return False
            if not is_side_fragment(output.get("text") or ""):
                self.held.append(output["text"])
                return False
        return True


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
    communicator.user = user
    connected, _subprotocol = await communicator.connect()
    return communicator, connected


async def join(room_slug: str, user, after: int | None = 0, client=None) -> ChatSocket:
    """Open a member's socket on a room as its page does: read the "Connected" status, then
    send the page's sync frame saying it has messages up to seq `after` (None: send none) and
    wait until it is handled (ChatSocket.settle): from then on, events reach the socket live.

    Returns the communicator; the caller must `await communicator.disconnect()`.
    """
    communicator, connected = await open_socket(room_slug, user, client=client)
    assert connected
    status = await communicator.receive_from()
    assert 'id="room-status"' in status and "Connected" in status
    if after is not None:
        await communicator.send_to(text_data=sync_frame(after))
        await communicator.settle()
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
    Room.objects.filter(pk=room.pk).update(last_seq=message.seq, last_message_at=message.created_at, last_author=author)
    room.last_seq = message.seq
    return message
