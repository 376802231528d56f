"""Tertulia servers for end-to-end tests, on the test database that pytest-django made (so what
a test saves, the servers see, and the other way): a daphne forked from the test process
(`live_server`), and processes started as in production (`uvicorn`, `gunicorn`)."""

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

from asgiref.sync import SyncToAsync
from channels.testing.live import make_application
from daphne.testing import DaphneProcess
from django.conf import settings
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.db import connection, connections
from django.test.utils import modify_settings

VENV_BIN = Path(sys.executable).parent


class FreshExecutorDaphneProcess(DaphneProcess):
    """Daphne in a forked child, with what the fork must not inherit replaced.

    - asgiref's single-thread executor: the parent's may hold a thread that does not exist in
      the child, and every `database_sync_to_async` would then hang.

    (The database name needs nothing: pytest-django points the settings at the test database
    before the fork. Channels' live server test case passes a `setup` that would prefix
    "test_" once more.)
    """

    def run(self):
        SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)
        super().run()


@contextlib.contextmanager
def live_server(host: str = "localhost") -> Iterator[str]:
    """Serve the ASGI application (static files too) from a daphne forked from this process, so
    with its settings (the test database, the fast password hasher); yield its base URL.

    What Channels' ChannelsLiveServerTestCase does, for pytest: call it with database access
    allowed (the fork keeps pytest-django's blocker as it is).
    """
    connections.close_all()  # a connection opened before the fork would be shared with the child
    with modify_settings(ALLOWED_HOSTS={"append": host}):
        process = FreshExecutorDaphneProcess(host, partial(make_application, static_wrapper=ASGIStaticFilesHandler))
        process.start()
        while not process.ready.wait(timeout=1):
            if not process.is_alive():
                raise RuntimeError("the live server stopped before it was ready")
    try:
        yield f"http://{host}:{process.port.value}"
    finally:
        process.terminate()
        process.join()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_database_url() -> str:
    """A DATABASE_URL naming the database this test process is using."""
    s = connection.settings_dict
    engine = s["ENGINE"].rsplit(".", 1)[-1]
    if engine == "sqlite3":
        return f"sqlite:///{s['NAME']}"
    scheme = {"postgresql": "postgres", "mysql": "mysql"}[engine]
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"{scheme}://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT']}/{s['NAME']}"


def server_env(**overrides: str) -> dict[str, str]:
    """The environment of a server process a test starts: this process's, but with the Django
    settings the test gives it (the database it uses, DEBUG, local hosts, and `overrides`),
    none of this process's own DJANGO_* variables (a browser test's relaxed guard included)."""
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith("DJANGO_")},
        "DATABASE_URL": test_database_url(),
        "DJANGO_DEBUG": "true",
        "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
        "PYTHONUNBUFFERED": "1",
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v != ""}


@contextlib.contextmanager
def running(command: list[str], port: int, env: dict[str, str], log: Path):
    """Start `command` and yield `(process, base_url)` once /healthz answers 200; stop it after.

    Its output goes to `log`. Raises RuntimeError (with the log) if it does not come up in 30 s.
    """
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT)
    base_url = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start:\n{log.read_text()}")
            time.sleep(0.1)  # Polling for start-up, not timing a result.
        yield process, base_url
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def uvicorn(port: int, env: dict[str, str], log: Path):
    return running(
        [
            str(VENV_BIN / "uvicorn"),
            "site_config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--ws",
            "site_config.workers:LeanWebSocketProtocol",
        ],  # the protocol gunicorn.conf.py's workers use
        port,
        env,
        log,
    )


@contextlib.contextmanager
def gunicorn(port: int, env: dict[str, str], log: Path, workers: int = 2):
    """gunicorn with `workers` uvicorn workers; yields `(process, base_url)` once every worker
    has logged its start-up (/healthz answers as soon as the first one listens, and a second
    still importing Django would leave every connection to the first).

    Raises RuntimeError (with the log) if they are not all up in 30 s.
    """
    env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers)}
    with running([str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py"], port, env, log) as started:
        deadline = time.monotonic() + 30
        while log.read_text().count("Application startup complete") < workers:
            if time.monotonic() > deadline:
                raise RuntimeError(f"not every worker started:\n{log.read_text()}")
            time.sleep(0.1)  # Polling for start-up, not timing a result.
        yield started
