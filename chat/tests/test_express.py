"""chat.express and the sockets' use of it: a message is written directly only where the ASGI path
would have sent exactly that frame and nothing else (e2e/test_express.py drives it on uvicorn)."""

import asyncio

import pytest
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State
from websockets.server import ServerProtocol

from chat.consumers.room import RoomConsumer
from chat.cursor import Cursor
from chat.express import Express, text_frame
from chat.models import Room
from chat.unseen import Unseen
from chat.variants import default_variant


class Written:
    """An Express stand-in: records what it writes; `ok` False refuses (a connection closing)."""

    def __init__(self, ok: bool = True):
        self.ok, self.data = ok, []

    def write(self, data: bytes) -> bool:
        if self.ok:
            self.data.append(data)
        return self.ok


def room_socket(*, seq: int | None = 3, up: bool = False, ok: bool = True) -> RoomConsumer:
    socket = RoomConsumer()
    socket.room = Room(pk=1, slug="lobby", name="Lobby")
    socket.cursor, socket.unseen = Cursor(), Unseen(user_id=7)
    socket.cursor.seq, socket.unseen.up = seq, up
    socket.variant, socket.express = default_variant(), Written(ok)
    socket.variant_key = socket.variant.key
    socket.inbox_open()
    return socket


def message_event(seq: int = 4, room: int = 1) -> dict:
    html = f"<p>message {seq}</p>"
    return {"type": "chat.message", "room": room, "seq": seq, "author": 8, "mentions": [], "html": html,
            "variant": default_variant().key, "again": "{}"}  # fmt: skip


def test_the_next_message_is_written_once_as_its_frame_and_moves_the_cursor():
    first, second, frames = room_socket(), room_socket(), {}
    event = message_event()
    assert first.hub_express(event, frames) and second.hub_express(event, frames)
    assert first.express.data == [text_frame("<p>message 4</p>")] and first.cursor.seq == 4
    assert second.express.data[0] is first.express.data[0]  # serialised once for the variant


@pytest.mark.parametrize(
    ("seq", "room", "cursor"),
    [(5, 1, 3), (3, 1, 3), (4, 2, 3), (4, 1, None)],
    ids=["gap", "already-sent", "another-room", "before-first-sync"],
)
def test_what_chat_message_would_do_more_with_is_left_to_it(seq, room, cursor):
    socket = room_socket(seq=cursor)
    assert not socket.hub_express(message_event(seq, room), {})
    assert socket.express.data == [] and socket.cursor.seq == cursor


def test_a_push_not_rendered_for_the_variant_is_left_to_chat_message_for_each_socket_of_it():
    first, second, frames = room_socket(), room_socket(), {}
    event = {**message_event(), "variant": "other", "rendered": ["other"]}  # the sender's note missed it
    assert not first.hub_express(event, frames) and not second.hub_express(event, frames)
    assert first.express.data == second.express.data == [] and first.cursor.seq == second.cursor.seq == 3


def test_a_reader_scrolled_up_is_counted_through_chat_message():
    socket = room_socket(up=True)
    assert not socket.hub_express(message_event(), {})
    assert socket.express.data == [] and socket.cursor.seq == 3


def test_a_refused_write_leaves_the_cursor_for_the_asgi_path():
    socket = room_socket(ok=False)
    assert not socket.hub_express(message_event(), {})
    assert socket.cursor.seq == 3


def test_pushes_forwarded_as_they_come_are_written_and_ones_own_typing_is_not():
    socket, frames = room_socket(), {}
    presence = {**message_event(), "type": "chat.presence", "html": "<p>online</p>"}
    assert socket.hub_express(presence, frames)
    socket.scope = {"user": type("User", (), {"pk": 7})()}
    typing = {**presence, "type": "chat.typing", "html": "<p>typing</p>"}
    assert socket.hub_express({**typing, "user_id": 8}, {})
    assert not socket.hub_express({**typing, "user_id": 7}, {})
    socket.cursor.seq = None  # before the page's first sync: chat_typing sends nothing
    assert not socket.hub_express({**typing, "user_id": 8}, {})
    assert socket.express.data == [text_frame("<p>online</p>"), text_frame("<p>typing</p>")]


async def test_a_busy_socket_or_another_event_is_not_written_directly():
    busy, waiting, other = room_socket(), room_socket(), room_socket()
    waiting.queued = 1
    async with busy.turn:
        assert not busy.hub_express(message_event(), {})
    assert not waiting.hub_express(message_event(), {})
    assert not other.hub_express({**message_event(), "type": "access.check"}, {})
    assert busy.express.data == waiting.express.data == other.express.data == []


async def test_a_socket_posting_is_written_its_rooms_next_message():
    """While a Post is handled (the turn held), the room's next message (the poster's own, as a
    rule) is still written directly: a post reads and writes nothing of the log."""
    socket = room_socket()
    async with socket.turn:
        socket.posting = True
        assert socket.hub_express(message_event(4), {})
        assert not socket.hub_express(message_event(6), {})  # a gap: chat_message, after the post
    assert socket.express.data == [text_frame("<p>message 4</p>")] and socket.cursor.seq == 4


async def test_a_sockets_own_text_frames_are_written_directly_and_the_rest_go_through_the_server():
    sent = []

    async def server_send(message):
        sent.append(message)

    socket, refusing = room_socket(), room_socket(ok=False)
    socket.base_send = refusing.base_send = server_send
    await socket.send(text_data="<p>answer</p>")
    await refusing.send(text_data="<p>refused</p>")  # a connection paused or closing
    await socket.send(bytes_data=b"\x00")
    await socket.send(text_data="<p>bye</p>", close=True)  # its frame, then the close: in order
    assert socket.express.data == [text_frame("<p>answer</p>")]
    assert [message.get("text") or message.get("bytes") or message["type"] for message in sent] == [
        "<p>refused</p>", b"\x00", "<p>bye</p>", "websocket.close"]  # fmt: skip


class Transport:
    def __init__(self):
        self.data, self.closing = [], False

    def write(self, data: bytes) -> None:
        self.data.append(data)

    def is_closing(self) -> bool:
        return self.closing


def uvicorn_protocol() -> WebSocketsSansIOProtocol:
    """A connection's protocol as uvicorn has it once its handshake is done (its attributes only)."""
    protocol = WebSocketsSansIOProtocol.__new__(WebSocketsSansIOProtocol)
    protocol.conn, protocol.transport = ServerProtocol(), Transport()
    protocol.conn.state = State.OPEN
    protocol.handshake_complete, protocol.close_sent, protocol.disconnected = True, False, False
    protocol.writable = asyncio.Event()
    protocol.writable.set()
    return protocol


def test_only_uvicorns_protocol_without_extensions_is_written_directly():
    async def other_server_send(message):
        pass

    protocol = uvicorn_protocol()
    assert Express.for_send(other_server_send) is None
    assert Express.for_send(protocol.send) is not None
    protocol.conn.extensions = [object()]  # permessage-deflate negotiated
    assert Express.for_send(protocol.send) is None


@pytest.mark.parametrize("state", ["close-sent", "disconnected", "paused", "closing", "transport-closing"])
def test_a_connection_not_open_for_writes_is_not_written(state):
    protocol = uvicorn_protocol()
    express = Express.for_send(protocol.send)
    if state == "close-sent":  # as uvicorn's send of websocket.close leaves it
        protocol.conn.send_close(1000)
        protocol.close_sent = True
    elif state == "disconnected":  # as uvicorn's connection_lost finds it
        protocol.transport.closing = protocol.disconnected = True
    elif state == "paused":
        protocol.writable.clear()
    elif state == "closing":
        protocol.conn.state = State.CLOSING
    else:
        protocol.transport.closing = True
    assert not express.write(b"frame")
    assert protocol.transport.data == []


def test_an_open_connection_is_written_the_frame_the_server_would_send():
    protocol = uvicorn_protocol()
    assert Express.for_send(protocol.send).write(text_frame("¡hola!"))
    server = ServerProtocol()
    server.state = State.OPEN
    server.send_text("¡hola!".encode())
    assert protocol.transport.data == [b"".join(server.data_to_send())]
