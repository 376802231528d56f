"""How uvicorn serves Tertulia: gunicorn's worker class (gunicorn.conf.py) and the single
process of `make run` (`python -m site_config.workers`), with the same options.

- `ws`: uvicorn's sans-I/O protocol ("websockets-sansio"), 14% less memory per idle socket than
  its default (legacy) `websockets` one (bench/run.py's idle shape: 40.9 against 47.4 KiB a
  socket at 2,000 sockets). It stops reading a socket while the application has one of its
  messages unread, so a flood of frames waits in the sender's buffers, not in ours. Here
  holding less for each open socket (LeanWebSocketProtocol).
- `ws_max_size`: settings.CHAT_FRAME_MAX_BYTES, the application's own limit on a whole frame.
  A larger message is refused with close code 1009 before it is buffered (uvicorn's default
  is 16 MiB). `ws_max_queue` matters only to uvicorn's legacy protocol; kept small.
- `ws_per_message_deflate`: settings.SERVER_WS_COMPRESSION (on by default): whether a socket
  may compress its frames, at a CPU cost per copy (chat/express.py writes only uncompressed ones).
- `http`: uvicorn's httptools protocol with a deadline and a size limit on each request head
  (HeadLimitedHttpToolsProtocol below), which uvicorn lacks.
"""

import argparse
import os

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn_worker import UvicornWorker

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_config.settings")
from django.conf import settings  # noqa: E402

from .slim_queue import SlimQueue  # noqa: E402


class RequestHeadTooLarge(Exception):
    pass


class HeadLimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, plus two limits on each request's head (its request line
    and headers; a WebSocket handshake is one):

    - it must arrive within settings.SERVER_HEADER_TIMEOUT_SECONDS of the connection opening
      or of the previous response, else the connection is closed. uvicorn has no such timer: a
      client that connects and sends nothing, or a header a byte at a time (slowloris), holds a
      connection for ever.
    - it may be at most settings.SERVER_HEADER_MAX_BYTES, else the answer is 400 and the
      connection is closed. httptools has no limit (uvicorn's h11 protocol has one, 16 KiB).

    The body is not covered: the reverse proxy's `client_body_timeout` is (docs/deployment.md).
    """

    head_deadline = None
    head_bytes = 0

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self.head_deadline_start()

    def connection_lost(self, exc) -> None:
        self.head_deadline_cancel()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        self.head_bytes = 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self.head_count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.head_count(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self.head_deadline_cancel()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.timeout_keep_alive_task is not None:  # idle, waiting for the next request
            self.head_deadline_start()

    def head_count(self, size: int) -> None:
        self.head_bytes += size
        if self.head_bytes > settings.SERVER_HEADER_MAX_BYTES:
            # httptools turns this into an HttpParserError: uvicorn answers 400 and closes.
            raise RequestHeadTooLarge

    def head_deadline_start(self) -> None:
        self.head_deadline_cancel()
        self.head_deadline = self.loop.call_later(settings.SERVER_HEADER_TIMEOUT_SECONDS, self.head_timed_out)

    def head_deadline_cancel(self) -> None:
        if self.head_deadline is not None:
            self.head_deadline.cancel()
            self.head_deadline = None

    def head_timed_out(self) -> None:
        self.head_deadline = None
        if not self.transport.is_closing():
            self.transport.close()


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O WebSocket protocol, holding less for each open socket:

    - The handshake's request and response are let go of once answered. uvicorn keeps both
      (`request`, `response`: websockets' Request and Response, each with its Headers, a list
      per header) as long as the socket is open, and reads neither after its answer: 13 objects
      a socket fewer for the garbage collector to walk and about 2 KiB (docs/performance.md,
      "Session 28"; upstream: docs/upstream/uvicorn-sansio-handshake-release.patch).
    - The request's headers are emptied once the scope has them. websockets' frame parser (a
      generator, ServerProtocol.parse) keeps the request as a local for the connection's life:
      2.9 KiB a socket (docs/performance.md, "Session 31"; upstream:
      docs/upstream/websockets-server-parse-request.patch).
    - The messages for the application wait in a SlimQueue, not an asyncio.Queue: 3.0 KiB a
      socket less (site_config.slim_queue)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.queue = SlimQueue()

    def handle_connect(self, event) -> None:
        super().handle_connect(event)
        self.request = None  # the scope holds what the application needs of it
        event.headers.clear()  # the scope has them as bytes; websockets' parser keeps `event`

    async def send(self, message) -> None:
        await super().send(message)
        if self.handshake_complete:
            self.response = None


def uvicorn_options() -> dict:
    """The uvicorn options both servers use (see the module's docstring)."""
    return {
        "http": HeadLimitedHttpToolsProtocol,
        "ws": LeanWebSocketProtocol,
        "ws_max_size": settings.CHAT_FRAME_MAX_BYTES,
        "ws_max_queue": 4,
        "ws_per_message_deflate": settings.SERVER_WS_COMPRESSION,
    }


class TertuliaWorker(UvicornWorker):
    """uvicorn-worker's UvicornWorker with uvicorn_options(). Its keep-alive timeout is
    gunicorn's `keepalive` and its graceful shutdown gunicorn's `graceful_timeout`
    (gunicorn.conf.py)."""

    def __init__(self, *args, **kwargs):
        # Read here, in the worker, so that the gunicorn master never loads Django's settings.
        self.CONFIG_KWARGS = {**UvicornWorker.CONFIG_KWARGS, **uvicorn_options()}
        super().__init__(*args, **kwargs)


def main() -> None:
    """`make run`: one uvicorn process, no reloading (restart it after a change)."""
    import uvicorn

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--log-level", default="info", help="uvicorn's (its access log and errors)")
    parser.add_argument("--no-access-log", action="store_true", help="no line per HTTP request")
    args = parser.parse_args()
    uvicorn.run(
        "site_config.asgi:application",
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=not args.no_access_log,
        **uvicorn_options(),
    )


if __name__ == "__main__":
    main()
