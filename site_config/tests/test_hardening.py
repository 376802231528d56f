"""Issue #11's hardening of the serving side: frame and request-head limits in the servers,
the development server, /healthz's body, the WebSocket origin check and the
Content-Security-Policy."""

import asyncio
import json
import re
import shlex
import socket
import subprocess
import urllib.request
import uuid
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from chat.rooms import room_get_or_create
from conftest import logged_in, session_cookie
from e2e.servers import free_port, gunicorn, running, server_env
from site_config.asgi import application

CLOSED_PORT = 1  # Nothing listens on port 1 here: connections are refused at once.


# Frame size and request heads, in the servers as they are started ---------------------------


def make_run_command(port: int) -> list[str]:
    """The command `make run` serves with (its last line; the migration before it is skipped:
    the test database is migrated already)."""
    dry_run = subprocess.run(
        ["make", "--dry-run", "--no-print-directory", "run", "HOST=127.0.0.1", f"PORT={port}"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return shlex.split(dry_run.stdout.strip().splitlines()[-1])


def make_run(port: int, env: dict[str, str], log):
    return running(make_run_command(port), port, env, log)


def member_cookie(username: str) -> str:
    room_get_or_create(name="Lobby")
    return session_cookie(get_user_model().objects.create_user(username)).decode()


async def frame_sizes_scenario(port: int, cookie: str) -> tuple[str, int | None]:
    """Send a frame of exactly CHAT_FRAME_MAX_BYTES, then a message to show the socket still
    works, then one byte more than the limit. Returns (what came back for the message, the
    close code the over-limit frame brought, None if the socket stayed open)."""
    socket = await connect(
        f"ws://localhost:{port}/ws/chat/lobby/",
        origin=f"http://localhost:{port}",
        additional_headers={"Cookie": cookie},
    )
    envelope = json.dumps({"message": "", "key": str(uuid.uuid4())})
    at_limit = json.dumps({"message": "x" * (settings.CHAT_FRAME_MAX_BYTES - len(envelope)), "key": str(uuid.uuid4())})
    assert len(at_limit.encode()) == settings.CHAT_FRAME_MAX_BYTES
    await socket.send(at_limit)
    await socket.send(json.dumps({"after": 0}))
    await socket.send(json.dumps({"message": "still here", "key": str(uuid.uuid4())}))
    seen = ""
    async with asyncio.timeout(10):
        while "still here" not in seen:
            seen = await socket.recv()
    await socket.send("x" * (settings.CHAT_FRAME_MAX_BYTES + 1))
    try:
        async with asyncio.timeout(5):
            while True:
                await socket.recv()
    except ConnectionClosed as closed:
        return seen, closed.rcvd.code if closed.rcvd else None
    except TimeoutError:
        await socket.close()
        return seen, None


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_gunicorn_closes_a_frame_over_the_limit_with_1009_and_takes_one_at_the_limit(tmp_path):
    """uvicorn's own cap (16 MiB by default) is CHAT_FRAME_MAX_BYTES: a larger frame never
    reaches the application, and the socket is closed with 1009 (message too big)."""
    cookie = member_cookie("ana")
    port = free_port()
    with gunicorn(port, server_env(), tmp_path / "gunicorn.log", workers=1):
        seen, code = async_to_sync(frame_sizes_scenario)(port, cookie)
    assert "still here" in seen
    assert code == 1009


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_make_run_serves_with_the_production_frame_limit_and_static_files(tmp_path):
    """`make run` serves with uvicorn and the workers' options (daphne's runserver read every
    frame of any size into memory), and still serves static files with DEBUG on."""
    cookie = member_cookie("ana")
    port = free_port()
    with make_run(port, server_env(), tmp_path / "run.log") as (_process, base_url):
        seen, code = async_to_sync(frame_sizes_scenario)(port, cookie)
        with urllib.request.urlopen(f"{base_url}/static/css/tertulia.css") as static:
            static_status = static.status
    assert "still here" in seen
    assert code == 1009
    assert static_status == 200


def resident_megabytes(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024


async def flood(port: int, cookie: str, frames: int) -> int:
    """Send `frames` small junk frames on one room socket as fast as the server takes them,
    reading nothing, for at most 20 s; how many were sent."""
    socket = await connect(
        f"ws://localhost:{port}/ws/chat/lobby/",
        origin=f"http://localhost:{port}",
        additional_headers={"Cookie": cookie},
    )
    sent = 0
    try:
        async with asyncio.timeout(20):
            while sent < frames:
                await socket.send("junk")
                sent += 1
    except (TimeoutError, ConnectionClosed):
        pass  # the server stopped reading, or closed the socket: either way, it holds little
    await asyncio.sleep(1)  # what was sent, the server has read by now, if it reads at all
    await socket.close()
    return sent


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_make_run_does_not_hold_a_flood_of_frames_in_memory(tmp_path):
    """200,000 junk frames on one socket: daphne's runserver read them all into its queue
    (+51 MB here; 500,000 took it from 94 to 196 MB), uvicorn stops reading until the
    application has taken the previous frame."""
    cookie = member_cookie("ana")
    port = free_port()
    with make_run(port, server_env(), tmp_path / "run.log") as (process, _url):
        before = resident_megabytes(process.pid)
        async_to_sync(flood)(port, cookie, 200_000)
        grown = resident_megabytes(process.pid) - before
    assert grown < 10, f"{grown:.0f} MB"


def unanswered_head(port: int, wait: float) -> str:
    """Connect, send half a request head and nothing more; what the server does within `wait` s:
    "closed" or "open"."""
    with socket.create_connection(("127.0.0.1", port)) as client:
        client.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        client.settimeout(wait)
        try:
            return "closed" if client.recv(1024) == b"" else "answered"
        except TimeoutError:
            return "open"


def oversized_head(port: int) -> bytes:
    """Send a request whose headers are 1 MiB; the server's first bytes back."""
    with socket.create_connection(("127.0.0.1", port)) as client:
        client.settimeout(10)
        try:
            client.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
            for i in range(128):
                client.sendall(b"X-Padding-%d: %s\r\n" % (i, b"a" * 8192))
            client.sendall(b"\r\n")
        except OSError:
            pass  # closed while sending: what it answered before is still readable
        try:
            return client.recv(1024)
        except OSError:
            return b""


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("server", ["gunicorn", "make run"])
def test_server_closes_a_connection_whose_request_head_is_slow_or_huge(tmp_path, server):
    """A client that sends half a request head and waits (slowloris) is disconnected after
    SERVER_HEADER_TIMEOUT_SECONDS; uvicorn alone waits for ever and reads headers of any size."""
    port = free_port()
    env = server_env(SERVER_HEADER_TIMEOUT_SECONDS="1")
    start = gunicorn if server == "gunicorn" else make_run
    with start(port, env, tmp_path / "server.log"):
        slow = unanswered_head(port, wait=5)
        huge = oversized_head(port)
    assert slow == "closed"
    assert huge.startswith(b"HTTP/1.1 400 ")


# /healthz --------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_healthz_names_only_the_failing_part_and_logs_the_details(client, settings, caplog):
    """The body says which part failed and nothing else (no address, no exception text);
    the exception goes to the log."""
    settings.HEALTHZ_TIMEOUT_SECONDS = 5
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [f"redis://127.0.0.1:{CLOSED_PORT}/0"]},
        }
    }
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "failing", "database": "ok", "channel_layer": "failed"}
    [record] = [r for r in caplog.records if r.name == "site_config.health"]
    assert record.levelname == "WARNING"
    assert "channel_layer" in record.getMessage() and record.exc_info is not None


# The WebSocket origin check ----------------------------------------------------------------------


async def handshake(headers: dict[str, str], scheme: str = "ws") -> bool:
    """Open /ws/chat/lobby/ through the whole ASGI application with these headers (and
    `scope["scheme"]`); whether the socket was accepted."""
    scope = {
        "type": "websocket",
        "scheme": scheme,
        "path": "/ws/chat/lobby/",
        "query_string": b"",
        "headers": [(name.encode(), value.encode()) for name, value in headers.items()],
        "subprotocols": [],
    }
    communicator = ApplicationCommunicator(application, scope)
    await communicator.send_input({"type": "websocket.connect"})
    answer = await communicator.receive_output(timeout=3)
    await communicator.send_input({"type": "websocket.disconnect", "code": 1000})
    await communicator.wait(timeout=3)
    return answer["type"] == "websocket.accept"


@pytest.fixture
def ana_cookie(db):
    room_get_or_create(name="Lobby")
    return session_cookie(get_user_model().objects.create_user("ana")).decode()


async def origin_accepted(cookie: str, host: str, origin: str, scheme: str = "ws", **headers: str) -> bool:
    return await handshake({"host": host, "origin": origin, "cookie": cookie, **headers}, scheme)


PROXY_SAYS_HTTPS = {"x-forwarded-proto": "https"}


def websocket_test(function):
    """Consumers write on their own thread: transactional, and the in-memory layer emptied."""
    return pytest.mark.django_db(transaction=True)(pytest.mark.usefixtures("fresh_in_memory_layer")(function))


@websocket_test
@pytest.mark.parametrize("origin", ["http://127.0.0.1:9999", "https://127.0.0.1:8000", "null"])
async def test_origin_of_another_port_or_scheme_is_refused_and_logged(ana_cookie, origin, caplog):
    """Same host on another port, or another scheme, is another origin (another site could
    serve it); the refusal is logged."""
    assert not await origin_accepted(ana_cookie, "127.0.0.1:8000", origin)
    assert f"WebSocket refused: origin {origin!r}" in caplog.text


@websocket_test
async def test_origin_of_the_handshake_itself_is_accepted(ana_cookie):
    assert await origin_accepted(ana_cookie, "127.0.0.1:8000", "http://127.0.0.1:8000")
    assert await origin_accepted(ana_cookie, "localhost", "http://localhost:80")


@websocket_test
async def test_origin_over_tls_is_https(ana_cookie, settings):
    """A handshake that came over TLS (wss), or through a TLS proxy that says so when
    SECURE_PROXY_SSL_HEADER is set, is the https origin, not the http one."""
    assert await origin_accepted(ana_cookie, "localhost", "https://localhost", scheme="wss")
    assert not await origin_accepted(ana_cookie, "localhost", "http://localhost", scheme="wss")
    assert not await origin_accepted(ana_cookie, "localhost", "https://localhost", **PROXY_SAYS_HTTPS)
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert await origin_accepted(ana_cookie, "localhost", "https://localhost", **PROXY_SAYS_HTTPS)
    assert not await origin_accepted(ana_cookie, "localhost", "http://localhost", **PROXY_SAYS_HTTPS)


@websocket_test
async def test_trusted_origins_are_accepted_and_the_host_must_be_allowed(ana_cookie, settings):
    """CSRF_TRUSTED_ORIGINS are the site's too (a TLS proxy in front that does not say so);
    the Host header itself must still be in ALLOWED_HOSTS (DNS rebinding)."""
    settings.ALLOWED_HOSTS = ["chat.example.com", "localhost"]
    settings.CSRF_TRUSTED_ORIGINS = ["https://chat.example.com"]
    assert await origin_accepted(ana_cookie, "chat.example.com", "https://chat.example.com")
    assert not await origin_accepted(ana_cookie, "chat.example.com", "https://chat.example.com:8443")
    assert not await origin_accepted(ana_cookie, "evil.example", "http://evil.example")
    assert not await origin_accepted(ana_cookie, "evil.example", "https://chat.example.com")


@websocket_test
async def test_origin_verdict_kept_for_the_same_headers_follows_the_settings(ana_cookie, settings):
    """The origin check keeps its verdict per Origin and Host (site_config.websocket._refusal):
    a change of the settings it reads changes the verdict for the very same headers."""
    settings.ALLOWED_HOSTS = ["chat.example.com"]
    assert not await origin_accepted(ana_cookie, "chat.example.com", "https://chat.example.com")
    settings.CSRF_TRUSTED_ORIGINS = ["https://chat.example.com"]
    assert await origin_accepted(ana_cookie, "chat.example.com", "https://chat.example.com")
    settings.ALLOWED_HOSTS = ["localhost"]
    assert not await origin_accepted(ana_cookie, "chat.example.com", "https://chat.example.com")


# Content-Security-Policy -------------------------------------------------------------------------

EXPECTED_DIRECTIVES = {
    "default-src 'self'",
    "script-src 'self' 'unsafe-eval'",
    "connect-src 'self'",
    "img-src 'self' data:",
    "frame-ancestors 'none'",
    "form-action 'self'",
    "base-uri 'none'",
    "object-src 'none'",
}
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER_ATTRIBUTE = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


@pytest.fixture
def pages(make_user):
    """Every page, as the reader who can see it: (client, path) pairs."""
    ana = make_user("ana")
    room, _created = room_get_or_create(name="Lobby", creator=ana)
    anonymous, member = Client(), logged_in(ana)
    return [
        (anonymous, "/accounts/login/"),
        (anonymous, "/accounts/signup/"),
        (anonymous, "/no-such-page/"),
        (member, "/chat/"),
        (member, f"/chat/{room.slug}/"),
        (member, f"/chat/{room.slug}/settings/"),
    ]


@pytest.mark.django_db
def test_every_page_carries_a_strict_content_security_policy_and_no_inline_script(pages):
    """The header is on every page (errors included); no page has a script without `src`, an
    inline event handler, or a `style-src` that allows every inline style."""
    for client, path in pages:
        response = client.get(path)
        assert response.status_code in (200, 404), path
        policy = response["Content-Security-Policy"]
        directives = {directive.strip() for directive in policy.split(";")}
        assert EXPECTED_DIRECTIVES <= directives, (path, policy)
        [style_src] = [d for d in directives if d.startswith("style-src ")]
        assert style_src.startswith("style-src 'self'") and "'unsafe-inline'" not in style_src, path
        html = response.content.decode()
        assert not INLINE_SCRIPT.search(html), path
        assert not EVENT_HANDLER_ATTRIBUTE.search(html), path


@pytest.mark.django_db
def test_every_inline_style_carries_the_responses_nonce_and_no_element_has_a_style_attribute(pages):
    """The policy refuses an inline <style> without its nonce and every style="" attribute."""
    for client, path in pages:
        response = client.get(path)
        html = response.content.decode()
        nonces = re.findall(r"'nonce-([^']+)'", response["Content-Security-Policy"])
        for style in re.findall(r"<style\b[^>]*>", html):
            assert nonces and f'nonce="{nonces[0]}"' in style, (path, style)
        assert not re.search(r"<[^>]+\sstyle\s*=", html), path


@pytest.mark.django_db
def test_htmx_is_told_not_to_inject_its_indicator_style(pages):
    """htmx 2 inserts an inline <style> for its indicators, which the policy would refuse."""
    client, path = pages[0]
    html = client.get(path).content.decode()
    assert """<meta name="htmx-config" content='{"includeIndicatorStyles": false}'>""" in html
