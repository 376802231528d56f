"""The hub's direct writes (chat.express) on uvicorn's sans-I/O protocol, the production workers':
sockets without compression take them, a compressing one and a scrolled-up reader take the
ASGI path; each receives every message once, in order."""

import asyncio
import json
import re
import uuid

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from websockets.asyncio.client import connect

from chat.models import Message
from chat.rooms import room_get_or_create
from chat.tests.support import session_cookie
from e2e.servers import free_port, server_env, uvicorn

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

COUNT = 30


async def member_socket(port: int, cookie: bytes, compression: str | None):
    socket = await connect(
        f"ws://localhost:{port}/ws/chat/lobby/",
        origin=f"http://localhost:{port}",
        additional_headers={"Cookie": cookie.decode()},
        compression=compression,
    )
    assert "Connected" in await asyncio.wait_for(socket.recv(), 5)
    await socket.send(json.dumps({"after": 0}))  # the page's first sync: live events flow from here
    return socket


async def texts_in_order(socket, count: int, also: str = "") -> tuple[list[str], list[str]]:
    """The message texts `express-N` in the order the socket's frames bring them (until `count`
    were seen and a frame had `also`, or 10 s passed), and every frame read."""
    seen, frames = [], []
    try:
        async with asyncio.timeout(10):
            while len(seen) < count or not any(also in frame for frame in frames):
                frame = await socket.recv()
                frames.append(frame)
                seen += re.findall(r"express-\d+\b", frame)
    except TimeoutError:
        pass
    return seen, frames


def test_plain_and_compressing_sockets_each_get_every_message_once_in_order(tmp_path):
    """Ana posts 30 messages back to back; Bea (no compression: direct writes), Caro
    (permessage-deflate: the server's path) and Dani (scrolled up: counted, so the server's
    path) each get all 30 once, in order; Dani's "Jump to latest" counts them."""
    room_get_or_create(name="Lobby")
    names = ["ana", "bea", "caro", "dani"]
    cookies = {name: session_cookie(get_user_model().objects.create_user(name)) for name in names}
    port = free_port()
    expected = [f"express-{i}" for i in range(COUNT)]

    async def scenario():
        ana = await member_socket(port, cookies["ana"], None)
        bea = await member_socket(port, cookies["bea"], None)
        caro = await member_socket(port, cookies["caro"], "deflate")
        dani = await member_socket(port, cookies["dani"], None)
        await dani.send(json.dumps({"scrolled": "up"}))
        await texts_in_order(dani, 0, also='data-unseen="0"')  # counting, before the first message
        for text in expected:
            await ana.send(json.dumps({"message": text, "key": str(uuid.uuid4())}))
        label = f'data-unseen="{COUNT}"'
        results = await asyncio.gather(
            texts_in_order(bea, COUNT), texts_in_order(caro, COUNT), texts_in_order(dani, COUNT, also=label)
        )
        for socket in (ana, bea, caro, dani):
            await socket.close()
        return results

    # Posting limits and the frame budget raised: 30 messages in a burst is the point here.
    env = server_env(CHAT_MESSAGE_RATE_LIMITS="1000/second", CHAT_FRAME_RATE="1000", CHAT_FRAME_BURST="1000")
    with uvicorn(port, env, tmp_path / "uvicorn.log"):
        (bea, _), (caro, _), (dani, dani_frames) = async_to_sync(scenario)()
    assert Message.objects.count() == COUNT
    assert bea == expected
    assert caro == expected
    assert dani == expected
    assert any(f'data-unseen="{COUNT}"' in frame for frame in dani_frames)


def test_the_heartbeat_is_written_directly_to_a_plain_socket(tmp_path):
    """The heartbeat's status and presence, serialised once and written straight to an
    uncompressed socket's connection, arrive as a frame the page reads (a broken write would
    turn every page to "Reconnecting…")."""
    room_get_or_create(name="Lobby")
    cookie = session_cookie(get_user_model().objects.create_user("ana"))
    port = free_port()

    async def scenario():
        ana = await member_socket(port, cookie, None)
        _seen, frames = await texts_in_order(ana, 0, also='id="room-status"')
        await ana.close()
        return frames

    with uvicorn(port, server_env(CHAT_HEARTBEAT_SECONDS="0.5"), tmp_path / "uvicorn.log"):
        frames = async_to_sync(scenario)()
    beat = next(frame for frame in frames if 'id="room-status"' in frame)
    assert "Connected" in beat and 'id="presence"' in beat
