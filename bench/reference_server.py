"""The ceiling: a fan-out server on the bare `websockets` library, no Django, same frame shape.

    python bench/reference_server.py PORT

A socket on /room/<name> joins that room; each text frame `{"message": …}` it sends is
escaped, wrapped in the same out-of-band fragment shape Tertulia pushes, and broadcast to every
socket of the room, the sender included. No authentication, no database, no channel layer.
"""

import asyncio
import html
import json
import sys
from collections import defaultdict

from websockets.asyncio.server import broadcast, serve

rooms: dict[str, set] = defaultdict(set)
FRAME = (
    '<div id="messages" hx-swap-oob="beforeend"><article class="message"><p class="message-body">{}</p></article></div>'
)


async def handler(socket):
    room = rooms[socket.request.path]
    room.add(socket)
    try:
        async for text in socket:
            try:
                message = json.loads(text)["message"]
            except (ValueError, KeyError, TypeError):
                continue
            broadcast(room, FRAME.format(html.escape(str(message))))
    finally:
        room.discard(socket)


async def main(port: int) -> None:
    async with serve(handler, "127.0.0.1", port, max_size=2**20):
        await asyncio.Future()


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main(int(sys.argv[1])))
