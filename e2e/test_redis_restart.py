"""Redis, the channel layer between two server processes, killed and restarted empty (or paused)
while two people chat through different processes: no message is lost or doubled, no socket is
killed, and both pages converge by themselves within a sync interval."""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from chat.models import Message
from e2e.browser import _, enter_room, sign_up
from e2e.servers import free_port, server_env, uvicorn

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server"),
]

SYNC_SECONDS = 5


@contextlib.contextmanager
def redis_server(port: int):
    """A throwaway Redis on `port`, keeping nothing on disk; yields a function that starts it
    (again) and returns its process."""
    processes: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(process)
        deadline = time.monotonic() + 10
        while subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).stdout != b"PONG\n":
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)  # Polling for start-up, not timing a result.
        return process

    try:
        yield start
    finally:
        for process in processes:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGCONT)
                process.kill()
                process.wait()


def post(page, text: str) -> None:
    """Send `text` from `page`'s composer and wait until the sender's own log shows it (stored:
    pushed live, or brought by the page's next sync while the layer is away). While Redis is
    paused each of its uses waits for its timeout (1-2 s) before going on without it, so a
    post can take several seconds then."""
    page.get_by_label(_("Message"), exact=True).fill(text)
    page.get_by_role("button", name=_("Send")).click()
    expect(page.get_by_role("log")).to_contain_text(text, timeout=30_000)


def health(base_url: str) -> tuple[int, dict]:
    """The status and body of `base_url`'s /healthz."""
    try:
        with urllib.request.urlopen(f"{base_url}/healthz", timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def log_bodies(page) -> list[str]:
    return page.get_by_role("log").locator(".message-body").all_inner_texts()


@pytest.mark.parametrize("outage", ["killed and restarted empty", "paused for 5 s"])
def test_a_redis_outage_loses_no_message_and_kills_no_socket(new_page, tmp_path, outage):
    redis_port = free_port()
    with redis_server(redis_port) as start_redis:
        redis = start_redis()
        env = server_env(REDIS_URL=f"redis://127.0.0.1:{redis_port}/0", CHAT_SYNC_SECONDS=str(SYNC_SECONDS))
        with (
            uvicorn(free_port(), env, tmp_path / "a.log") as (_a, url_a),
            uvicorn(free_port(), env, tmp_path / "b.log") as (_b, url_b),
        ):
            ana, bea = sign_up(new_page(url_a), "ana"), sign_up(new_page(url_b), "bea")
            enter_room(ana, "Lobby")
            enter_room(bea, "Lobby")
            post(ana, "before 1")
            expect(bea.get_by_role("log")).to_contain_text("before 1")

            if outage == "paused for 5 s":
                os.kill(redis.pid, signal.SIGSTOP)
                post(bea, "during 1")
                post(ana, "during 2")
                time.sleep(5)  # the outage itself
                os.kill(redis.pid, signal.SIGCONT)
            else:
                redis.kill()
                redis.wait()
                assert health(url_a) == (503, {"status": "failing", "database": "ok", "channel_layer": "failed"})
                post(bea, "during 1")
                post(ana, "during 2")
                start_redis()
                deadline = time.monotonic() + 10
                while health(url_a)[0] != 200:
                    assert time.monotonic() < deadline, "/healthz still failing 10 s after Redis came back"
                    time.sleep(0.2)  # Polling for recovery, not timing a result.
            post(bea, "after 1")
            post(ana, "after 2")

            expected = ["before 1", "during 1", "during 2", "after 1", "after 2"]
            assert list(Message.objects.order_by("seq").values_list("body", flat=True)) == expected
            for page in (ana, bea):
                expect(page.get_by_role("log").locator(".message-body")).to_have_text(
                    expected, timeout=(SYNC_SECONDS + 10) * 1000
                )
                assert log_bodies(page) == expected
                expect(page.get_by_role("status")).to_have_text(_("Connected"))
            # Live again, not only through the syncs: the subscriptions came back with Redis.
            post(ana, "live again")
            expect(bea.get_by_role("log")).to_contain_text("live again", timeout=2_000)
        logs = (tmp_path / "a.log").read_text() + (tmp_path / "b.log").read_text()
        assert "code=1011" not in logs and "socket handler raised" not in logs, logs[-3000:]
