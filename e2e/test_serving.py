"""The production server (gunicorn + uvicorn workers) on the real stack, driven over sockets."""

import asyncio
import json
import os
import re
import signal
import subprocess
import uuid

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from chat.rooms import room_get_or_create
from chat.tests.support import session_cookie
from e2e.servers import free_port, gunicorn, server_env

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

REDIS_URL = os.environ.get("REDIS_URL", "")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="several workers need a shared channel layer: set REDIS_URL")


def worker_of_each_socket(master_pid: int, port: int) -> list[int]:
    """The worker pid holding each established server-side socket on `port`."""
    children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master_pid)], capture_output=True, text=True)
    workers = {int(pid) for pid in children.stdout.split()}
    listing = subprocess.run(
        ["ss", "-tnpH", "state", "established", f"( sport = :{port} )"], capture_output=True, text=True
    ).stdout
    pids = [int(pid) for pid in re.findall(r"pid=(\d+)", listing)]
    return [pid for pid in pids if pid in workers]


async def open_member_socket(port: int, cookie: bytes):
    socket = await connect(
        f"ws://localhost:{port}/ws/chat/lobby/",
        origin=f"http://localhost:{port}",
        additional_headers={"Cookie": cookie.decode()},
    )
    assert "Connected" in await asyncio.wait_for(socket.recv(), 5)
    await socket.send(json.dumps({"after": 0}))  # the page's first sync: live events flow from here
    return socket


async def receive_texts(socket, texts: set[str], timeout: float = 10) -> set[str]:
    """Read frames until every text in `texts` was seen in one; return those seen."""
    seen: set[str] = set()
    try:
        async with asyncio.timeout(timeout):
            while seen != texts:
                frame = await socket.recv()
                seen |= {text for text in texts if text in frame}
    except TimeoutError:
        pass
    return seen


@needs_redis
def test_ten_sockets_over_two_gunicorn_workers_all_receive_every_message(tmp_path):
    """Members spread over both workers each receive every message, whichever worker took it."""
    room_get_or_create(name="Lobby")
    users = [get_user_model().objects.create_user(f"member{i}") for i in range(10)]
    cookies = [session_cookie(user) for user in users]
    port = free_port()

    async def scenario(master_pid: int):
        sockets = [await open_member_socket(port, cookie) for cookie in cookies]
        workers = worker_of_each_socket(master_pid, port)
        assert len(workers) == 10 and len(set(workers)) == 2, workers
        texts = {f"hello from member{i}" for i in range(0, 10, 3)}
        for i in range(0, 10, 3):
            await sockets[i].send(json.dumps({"message": f"hello from member{i}", "key": str(uuid.uuid4())}))
        seen = await asyncio.gather(*(receive_texts(s, texts) for s in sockets))
        for socket in sockets:
            await socket.close()
        return seen, texts

    with gunicorn(port, server_env(), tmp_path / "gunicorn.log") as (process, _url):
        seen, texts = async_to_sync(scenario)(process.pid)
    assert seen == [texts] * 10


def test_sigterm_closes_sockets_with_1012_and_logs_connects_and_refusals(tmp_path):
    """A deploy's SIGTERM closes sockets with 1012 (htmx reconnects); the log tells who came."""
    room_get_or_create(name="Lobby")
    cookie = session_cookie(get_user_model().objects.create_user("ana"))
    port = free_port()
    log = tmp_path / "gunicorn.log"

    async def scenario(master_pid: int):
        with pytest.raises(InvalidStatus):
            await connect(f"ws://localhost:{port}/ws/chat/lobby/", origin="http://evil.example")
        socket = await open_member_socket(port, cookie)
        os.kill(master_pid, signal.SIGTERM)
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(15):
                while True:
                    await socket.recv()  # what was sent before the close (ana coming online)
        return closed.value.rcvd.code

    with gunicorn(port, server_env(), log, workers=1) as (process, _url):
        code = async_to_sync(scenario)(process.pid)
        process.wait(timeout=15)
    output = log.read_text()
    assert code == 1012
    assert "WebSocket refused: origin 'http://evil.example' is not an allowed host" in output
    assert "socket connected: room=lobby" in output
    assert "socket disconnected: room=lobby" in output
    assert '"WebSocket /ws/chat/lobby/"' in output


def test_invalid_utf8_text_frame_closes_only_that_socket_with_1007(tmp_path):
    """The server refuses a text frame that is not UTF-8 (RFC 6455: close 1007) before any
    consumer sees it; the other member's socket and the server carry on."""
    room_get_or_create(name="Lobby")
    ana_cookie = session_cookie(get_user_model().objects.create_user("ana"))
    bea_cookie = session_cookie(get_user_model().objects.create_user("bea"))
    port = free_port()

    async def scenario():
        ana = await open_member_socket(port, ana_cookie)
        bea = await open_member_socket(port, bea_cookie)
        await ana.send(b"\xff\xfe not UTF-8", text=True)
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(5):
                while True:
                    await ana.recv()  # what was sent before the close (Bea coming online)
        await bea.send(json.dumps({"message": "still here", "key": "6f1c1b3e-1f55-4f8e-9c51-8d7c7f1f2a10"}))
        seen = await receive_texts(bea, {"still here"})
        await bea.close()
        return closed.value.rcvd.code, seen

    with gunicorn(port, server_env(), tmp_path / "gunicorn.log", workers=1):
        code, seen = async_to_sync(scenario)()
    assert code == 1007
    assert seen == {"still here"}
