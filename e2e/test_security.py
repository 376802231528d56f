"""The attacker's probes, against a live server process (uvicorn, as in production): access that
ends elsewhere ends the socket, floods and hostile frames are contained, and a private room's
existence does not leak. `make security` runs these; `make test` includes them."""

import asyncio
import json
import uuid

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from chat.models import Message
from chat.rooms import room_create_private, room_get_or_create
from chat.tests.support import session_cookie
from e2e.servers import free_port, server_env, uvicorn

pytestmark = [pytest.mark.e2e, pytest.mark.security, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def server(tmp_path_factory, django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        env = server_env()
    port = free_port()
    with uvicorn(port, env, tmp_path_factory.mktemp("security") / "server.log") as (_process, _url):
        yield port


async def socket_of(port: int, cookie: bytes, path: str = "/ws/chat/lobby/"):
    return await connect(
        f"ws://localhost:{port}{path}",
        origin=f"http://localhost:{port}",
        additional_headers={"Cookie": cookie.decode()},
    )


async def page_socket(port: int, cookie: bytes):
    """A socket on Lobby as its page opens one: "Connected" read, its first sync sent."""
    socket = await socket_of(port, cookie)
    assert "Connected" in await socket.recv()
    await socket.send(json.dumps({"after": 0}))
    return socket


async def close_code(socket, timeout: float = 5) -> int | None:
    """Read until the server closes `socket`; its close code (None if it stays open)."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                await socket.recv()
    except ConnectionClosed:
        return socket.close_code
    except TimeoutError:
        return None


def member(username: str) -> tuple:
    user = get_user_model().objects.create_user(username=username, password="correct horse battery")
    return user, session_cookie(user)


def test_sessions_deleted_by_another_process_end_every_socket_at_its_next_frame(server):
    """The test process deletes Ana's session (as `clearsessions` or the admin in another worker
    would): the server hears no event (its channel layer is its own), yet each of her twelve
    sockets ends with 4001 at its next frame, and what they post is not stored."""
    room_get_or_create(name="Lobby")
    ana, cookie = member("ana")

    async def probe():
        sockets = await asyncio.gather(*[socket_of(server, cookie) for _ in range(12)])
        for socket in sockets:
            assert "Connected" in await socket.recv()
        await asyncio.to_thread(Session.objects.all().delete)
        for socket in sockets:
            await socket.send(json.dumps({"message": "still me?", "key": str(uuid.uuid4())}))
        return [await close_code(socket) for socket in sockets]

    assert async_to_sync(probe)() == [4001] * 12
    assert not Message.objects.filter(author=ana).exists()


def test_a_flood_of_frames_closes_that_socket_with_1008_and_others_chat_on(server):
    room_get_or_create(name="Lobby")
    _ana, anas_cookie = member("ana")
    _bea, beas_cookie = member("bea")

    async def probe():
        flooder, bea = await socket_of(server, anas_cookie), await page_socket(server, beas_cookie)
        for _ in range(500):
            await flooder.send("junk")
        code = await close_code(flooder)
        await bea.send(json.dumps({"message": "still here", "key": str(uuid.uuid4())}))
        async with asyncio.timeout(5):
            while "still here" not in await bea.recv():
                pass
        return code

    assert async_to_sync(probe)() == 1008


@pytest.mark.parametrize(
    "hostile",
    ["[" * 20000, '{"message": "a\\ud800b", "key": "00000000-0000-0000-0000-000000000000"}', "\x00" * 1000],
    ids=["nested-json", "lone-surrogate", "nul-bytes"],
)
def test_hostile_frames_leave_the_socket_open(server, hostile):
    room_get_or_create(name="Lobby")
    _ana, cookie = member("ana")

    async def probe():
        socket = await page_socket(server, cookie)
        await socket.send(hostile)
        await socket.send(json.dumps({"message": "after", "key": str(uuid.uuid4())}))
        async with asyncio.timeout(5):
            while "after" not in await socket.recv():
                pass
        await socket.close()

    async_to_sync(probe)()


def test_an_outsider_cannot_tell_a_private_room_from_a_missing_one(server):
    ana, _ = member("ana")
    _cy, cookie = member("cy")
    plans = room_create_private(name="Plans", creator=ana)

    async def probe():
        codes = []
        for path in (f"/ws/chat/{plans.slug}/", "/ws/chat/p-000000000000/"):
            codes.append(await close_code(await socket_of(server, cookie, path)))
        return codes

    assert async_to_sync(probe)() == [4004, 4004]
