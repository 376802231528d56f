"""Tertulia server processes for end-to-end tests, started as in production, on the test
database that pytest-django made (so what a test saves, the servers see, and the other way)."""

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.conf import settings
from django.db import connection

VENV_BIN = Path(sys.executable).parent


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
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "DJANGO_DEBUG": "true",
        "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
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
            "websockets-sansio",
        ],  # the protocol gunicorn.conf.py's workers use
        port,
        env,
        log,
    )


def gunicorn(port: int, env: dict[str, str], log: Path, workers: int = 2):
    env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers)}
    return running([str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py"], port, env, log)
