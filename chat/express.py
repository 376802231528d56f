"""A socket's frames written straight to its connection, for the hub's fan-out of a message.

A copy handed to a socket through ASGI costs a coroutine, Channels' `send`, the server's `send`
(checks, a frame built and serialised) and the write: in a 1,000-member room, half of each copy's
server CPU was the Python around the write (docs/performance.md). A server frame without
extensions is the same bytes for every socket (RFC 6455 §5.1: servers never mask), so the hub
serialises a message's frame once per variant (`text_frame`) and writes it to each idle socket's
transport (`Express.write`), as the reference server (`websockets.broadcast`) does.

Only where that is exactly what the server would have done: uvicorn's sans-I/O WebSocket
protocol (the production workers', site_config/workers.py), open, not closing, not paused by
flow control, with no extension negotiated (a socket with per-message compression has its own
compression context: its frames go through the server). Anything else (daphne, a compressing
browser, a socket being closed) takes the ASGI path, unchanged.
"""

from websockets.frames import Frame, Opcode
from websockets.protocol import State

try:
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
except ImportError:  # pragma: no cover - uvicorn is in requirements.txt; daphne alone still works
    WebSocketsSansIOProtocol = None


def text_frame(text: str) -> bytes:
    """`text` as one unmasked WebSocket text frame, as a server without extensions sends it."""
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=False, extensions=[])


class Express:
    """Direct writes to one socket's connection (`protocol`: uvicorn's WebSocketsSansIOProtocol)."""

    __slots__ = ("conn", "transport", "writable")  # one per open socket

    def __init__(self, protocol):
        # The connection's parts, each fixed for its life, kept: write() is the hub's cost per copy.
        self.conn, self.transport, self.writable = protocol.conn, protocol.transport, protocol.writable

    @classmethod
    def for_send(cls, send) -> "Express | None":
        """An Express for the connection behind `send` (an ASGI send callable) once its handshake
        is done, or None when its frames must go through the server: another server, or
        extensions negotiated (permessage-deflate)."""
        protocol = getattr(send, "__self__", None)
        if WebSocketsSansIOProtocol is None or not isinstance(protocol, WebSocketsSansIOProtocol):
            return None
        if not protocol.handshake_complete or protocol.conn.extensions:
            return None
        return cls(protocol)

    def write(self, data: bytes) -> bool:
        """Write `data` (text_frame()'s) now, if the connection is open and its transport takes writes
        (not paused: then the ASGI send waits for it): True if written, False if not (the caller
        sends through ASGI). Never raises for a closing connection.

        Three checks stand for uvicorn's five (its send): a close sent (`close_sent`) always
        leaves the sans-I/O connection CLOSING or the transport closing, and a lost connection
        (`disconnected`) a closed transport; a close received leaves the connection CLOSING."""
        transport = self.transport
        if self.conn.state is not State.OPEN or not self.writable.is_set() or transport.is_closing():
            return False
        transport.write(data)
        return True
