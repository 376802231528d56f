"""First connects, code against code: the server CPU each costs, for an A/B of a change to the
connect path (docs/performance.md, sessions 24 and 25). After `make bench` has prepared the
database and the cookies:

    git worktree add /tmp/old <commit>   # then copy in bench/results/cookies.json, the
                                         # compiled translations and staticfiles/
    .venv/bin/python bench/connects.py 3000 3 /tmp/old . [--remembered | --shared]

Each round starts a fresh Tertulia server (as `make bench` does: one uvicorn process on the
server core) from each tree in turn, alternating their order (a server's place biases its
figure: the first of a run measured 20–40% dearer each time in session 25, so compare from the
second line on), opens 50 sockets to warm it, then N sockets into `bench-idle` at
once (the i-th user each, 200 handshakes at a time), and prints the wall time, the server's
CPU per connect, its memory per socket, and PostgreSQL's CPU per connect (all its processes'
/proc times). `--remembered` warms with the same N users instead, so that the measured
handshakes take the process's remembered reads of their sessions (site_config.session_reads);
`--shared` first reads the N users' sessions as their page views would on another worker (or
before a restart), so that the handshakes take the reads shared through the cache: a crowd
reconnecting after a deploy. Otherwise the shared reads of the bench's sessions are deleted
before each round, so that each handshake reads its session and user. `--redis`: one server on
the Redis layer and cache (BENCH_REDIS_URL), as production's workers are, instead of the
in-memory layer and the file cache.
Set DJANGO_CACHE_DIR to one directory for every tree: the access versions they compare live there.
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cache_state  # noqa: E402
import servers  # noqa: E402
from loadgen import Target, close_members, open_members  # noqa: E402
from shapes import cpu_seconds, rss_kib  # noqa: E402

WARM_SOCKETS = 50
HERE = Path(__file__).resolve().parent.parent


def postgres_cpu_seconds() -> float:
    """CPU seconds used so far by every running `postgres` process (gone ones count nothing)."""
    found = subprocess.run(["pgrep", "-x", "postgres"], capture_output=True, text=True).stdout.split()
    total = 0.0
    for pid in found:
        try:
            total += cpu_seconds(int(pid))
        except OSError:
            pass
    return total


async def round_on(tree: Path, sockets: int, mode: str, cookies: list[str], redis: bool) -> str:
    """One fresh server from `tree` (on the Redis layer and cache if `redis`), warmed, then
    `sockets` connects (`mode`: first, remembered, shared): a line of figures."""
    remembered = mode == "remembered"
    servers.ROOT = HERE  # this tree's code reads and deletes them (a tree compared may not know them)
    cache_state.access_versions_ensure()
    if mode == "shared":
        cache_state.shared_reads_make(sockets, redis)
    else:
        cache_state.shared_reads_forget()
    servers.ROOT = tree  # the server's working directory: its code
    with ExitStack() as stack:
        port = servers.free_port()
        pid = stack.enter_context(servers.tertulia_server(port, redis))
        target = Target("tertulia", [port], tertulia=True, cookies=cookies)
        warm, _ = await open_members(target, ["bench-idle"], sockets if remembered else WARM_SOCKETS, False, 200)
        await close_members(warm)
        await asyncio.sleep(1)
        cpu, rss, postgres, start = cpu_seconds(pid), rss_kib(pid), postgres_cpu_seconds(), time.perf_counter()
        members, _ = await open_members(target, ["bench-idle"], sockets, False, 200)
        wall = time.perf_counter() - start
        await asyncio.sleep(1)  # what the last connects left to do
        cpu, rss, postgres = cpu_seconds(pid) - cpu, rss_kib(pid) - rss, postgres_cpu_seconds() - postgres
        await close_members(members)
    return (
        f"{str(tree):20s} wall {wall:5.2f} s  server {cpu / sockets * 1e3:.3f} ms a connect  "
        f"{rss / sockets:5.1f} KiB a socket  PostgreSQL {postgres / sockets * 1e6:4.0f} µs a connect"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sockets", type=int)
    parser.add_argument("rounds", type=int)
    parser.add_argument("trees", nargs="+", type=lambda path: Path(path).resolve())
    modes = parser.add_mutually_exclusive_group()
    modes.add_argument("--remembered", action="store_const", const="remembered", dest="mode", default="first")
    modes.add_argument("--shared", action="store_const", const="shared", dest="mode")
    parser.add_argument("--redis", action="store_true", help="the server on the Redis layer and cache")
    args = parser.parse_args()
    os.sched_setaffinity(0, {servers.GENERATOR_CORE})
    cookies = json.loads((servers.RESULTS / "cookies.json").read_text())
    for number in range(args.rounds):
        order = args.trees if number % 2 == 0 else args.trees[::-1]
        for tree in order:
            print(asyncio.run(round_on(tree, args.sockets, args.mode, cookies, args.redis)), flush=True)


if __name__ == "__main__":
    main()
