"""The bench's servers and their database: Tertulia under uvicorn or the reference server, each
pinned to the server core, started on demand and stopped at the end of the run.

Tertulia runs with DEBUG off on a PostgreSQL database of its own (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/tertulia_bench), with the in-memory layer (one process) or
the Redis layer (two processes, BENCH_REDIS_URL).
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

from loadgen import Target

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tertulia_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/2")
SERVER_CORE, GENERATOR_CORE = "0", 1
START_TIMEOUT_S, STOP_TIMEOUT_S = 60, 10


def tertulia_env(redis: bool) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": DATABASE_URL,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
        "DJANGO_HTTPS": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        # The bench measures capacity, not the flood policies: one sender a room offers up to
        # hundreds of frames a second, past a user's posting limits and a socket's frame budget.
        "CHAT_MESSAGE_RATE_LIMITS": "10000000/second",
        "CHAT_FRAME_RATE": "1000000",
        "CHAT_FRAME_BURST": "1000000",
        "TERTULIA_LOG_LEVEL": "WARNING",
        "REDIS_URL": REDIS_URL if redis else "",
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def python(*args: str, redis: bool = False) -> str:
    """Run `python ARGS` from the repository root against the bench database; return its output."""
    result = subprocess.run([sys.executable, *args], cwd=ROOT, env=tertulia_env(redis), capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(result.stdout + result.stderr)
    return result.stdout


def answers(port: int, ready_path: str | None) -> bool:
    """Whether the server on `port` is up: `ready_path` answers, or (without one) it accepts."""
    try:
        if ready_path:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{ready_path}", timeout=2).close()
        else:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def stop(process: subprocess.Popen) -> None:
    """SIGTERM; SIGKILL if it is still running STOP_TIMEOUT_S later (kill() is a no-op once it
    has exited)."""
    process.terminate()
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_TIMEOUT_S)
    process.kill()
    process.wait()


@contextmanager
def server(command: list[str], port: int, env: dict[str, str], ready_path: str | None):
    """Run `command` pinned to the server core; yield its pid once it answers; stop it after
    (also when it does not come up, which raises RuntimeError naming its log)."""
    with (RESULTS / f"server-{port}.log").open("w") as log:
        process = subprocess.Popen(
            ["taskset", "-c", SERVER_CORE, *command], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while not answers(port, ready_path):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server {command} did not start; see {log.name}")
                time.sleep(0.1)  # polling for start-up, not timing a result
            yield process.pid
        finally:
            stop(process)


def tertulia_server(port: int, redis: bool):
    """Tertulia as `make run` serves it (site_config.workers: production's uvicorn options, the
    same as gunicorn.conf.py's workers: uvloop, httptools with its head limits, the sans-I/O
    WebSocket protocol), without its access log, ready once /healthz answers."""
    command = [
        sys.executable,
        "-m",
        "site_config.workers",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    return server(command, port, tertulia_env(redis), "/healthz")


def reference_server(port: int):
    return server([sys.executable, "bench/reference_server.py", str(port)], port, dict(os.environ), None)


def prepare_database(sockets: int, rooms: list[str]) -> list[str]:
    """Create the bench database if missing, migrate, make users with sessions and rooms; return
    the users' session cookies: at least `sockets`, and as many as the last preparation made
    (a smaller bench run after `make bench` must not leave one_shape.py's 5,000 sockets short)."""
    import psycopg

    name = DATABASE_URL.rsplit("/", 1)[1]
    with psycopg.connect(DATABASE_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    python("manage.py", "migrate", "--noinput")
    python("manage.py", "collectstatic", "--noinput", "--verbosity", "0")
    cookies_file = RESULTS / "cookies.json"
    made = len(json.loads(cookies_file.read_text())) if cookies_file.exists() else 0
    python("bench/create_users.py", "--count", str(max(sockets, made)), "--output", str(cookies_file))
    script = "from chat.rooms import room_get_or_create\n" + "".join(
        f"room_get_or_create(name={room!r})\n" for room in rooms
    )
    python("manage.py", "shell", "--verbosity", "0", "-c", script)
    members_prepare(rooms, max(sockets, made))
    # Each message updates its room's row: without autovacuum (off on these machines) earlier
    # runs leave tens of thousands of dead versions for every read of a room to step over.
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return json.loads(cookies_file.read_text())


def members_prepare(rooms: list[str], users: int) -> None:
    """Make each bench room's sockets' users its members, as loadgen.open_members opens them
    (the i-th socket is the i-th user, by id): bench-<k> the 20 from 20·k, bench-solo-<k> the
    k-th, bench-big the first 1,000 (the big room's), bench-idle the first `users`. A socket
    then connects as a returning member does (its room read with its sidebar), on the first
    run as on later ones: joining a room is a write of its own (membership_join), measured
    nowhere here."""
    script = f"""
from django.contrib.auth import get_user_model
from chat.models import Membership, Room
users = list(get_user_model().objects.filter(username__startswith="bench").order_by("id")[:{users}])
rows = []
for room in Room.objects.filter(slug__in={rooms!r}):
    kind, _, number = room.slug.rpartition("-")
    if kind == "bench" and number.isdigit():
        chosen = users[20 * int(number) : 20 * int(number) + 20]
    elif kind == "bench-solo":
        chosen = users[int(number) : int(number) + 1]
    elif room.slug == "bench-big":
        chosen = users[:1000]
    else:
        chosen = users
    rows += [Membership(room=room, user=user) for user in chosen]
Membership.objects.bulk_create(rows, ignore_conflicts=True, batch_size=5000)
"""
    python("manage.py", "shell", "--verbosity", "0", "-c", script)


class Configs:
    """The servers of each configuration, started on demand and kept until stop() or the run's end."""

    def __init__(self, stack: ExitStack, cookies: list[str]):
        self.stack, self.cookies, self.started = stack, cookies, {}
        self.stacks: dict[str, ExitStack] = {}

    def target(self, name: str) -> tuple[Target, list[int]]:
        """The configuration `name` (reference, tertulia-inmem-1proc, tertulia-redis-2proc) as a
        load-generator target, and its server pids."""
        if name not in self.started:
            stack = self.stacks[name] = self.stack.enter_context(ExitStack())
            if name == "reference":
                port = free_port()
                pids = [stack.enter_context(reference_server(port))]
                target = Target(name, [port], tertulia=False)
            else:
                redis = name == "tertulia-redis-2proc"
                ports = [free_port() for _ in range(2 if redis else 1)]
                pids = [stack.enter_context(tertulia_server(p, redis)) for p in ports]
                target = Target(name, ports, tertulia=True, cookies=self.cookies)
            self.started[name] = (target, pids)
        return self.started[name]

    def stop(self, name: str) -> None:
        """Stop configuration `name`'s servers: they share the server core with the next one
        measured (two idle Redis-layer processes took 0.43 s of it while 5,000 sockets opened)."""
        if name in self.started:
            del self.started[name]
            self.stacks.pop(name).close()
