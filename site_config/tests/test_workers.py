"""The WebSocket protocol production's workers and `make run` serve with (site_config.workers)."""

import asyncio

from uvicorn.config import Config
from uvicorn.server import ServerState

from site_config.slim_queue import SlimQueue
from site_config.workers import LeanWebSocketProtocol, uvicorn_options

HANDSHAKE = (
    b"GET /ws/ HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


class Transport(asyncio.Transport):
    """What the protocol writes, kept."""

    def __init__(self):
        super().__init__()
        self.written = b""
        self.closing = False

    def write(self, data: bytes) -> None:
        self.written += data

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def get_extra_info(self, name, default=None):
        return default


async def test_the_handshake_is_let_go_once_answered_and_frames_still_go():
    sent = asyncio.Event()

    async def app(scope, receive, send):
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": "hello"})
        sent.set()
        await receive()

    config = Config(app=app, lifespan="off", ws=LeanWebSocketProtocol, ws_per_message_deflate=False)
    config.load()
    protocol = LeanWebSocketProtocol(config=config, server_state=ServerState(), app_state={})
    transport = Transport()
    protocol.connection_made(transport)
    protocol.data_received(HANDSHAKE)
    assert protocol.request is None  # uvicorn's own keeps it for the socket's life
    assert protocol.scope["headers"][0] == (b"Host", b"localhost")
    # websockets' frame parser keeps the request for the connection's life; its headers are gone.
    assert len(protocol.conn.parser.gi_frame.f_locals["request"].headers) == 0
    assert isinstance(protocol.queue, SlimQueue)
    await asyncio.wait_for(sent.wait(), 2)
    assert transport.written.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert transport.written.endswith(b"\x81\x05hello")  # an unmasked text frame
    assert protocol.response is None
    protocol.connection_lost(None)


def test_the_workers_serve_with_it():
    assert uvicorn_options()["ws"] is LeanWebSocketProtocol
