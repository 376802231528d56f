"""`make bench`: Tertulia's whole message path against the bare-`websockets` ceiling, one run.

    .venv/bin/python bench/run.py [--smoke] [--skip-history]

Servers run pinned to core 0 (`taskset -c 0`), this generator to core 1. Tertulia runs under
uvicorn (uvloop, httptools, websockets-sansio, as gunicorn.conf.py's workers) with DEBUG off on a
PostgreSQL database of its own (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/tertulia_bench), with the in-memory layer (one process) or the
Redis layer (two processes, BENCH_REDIS_URL). Shapes:
- ramp: 200 sockets in 10 rooms of 20; offered copies/s rises until p99 > 100 ms or a copy is
  lost (saturation);
- big room: 1,000 sockets in one room; one message at a time, the time until all have it;
- idle: 5,000 sockets, with and without permessage-deflate: set-up time, server memory each;
- history: 1,000,000 messages over 100 rooms (bench/history.py); --skip-history keeps the
  previous run's history figures, noted as such.
Writes bench/results/latest.json (every figure), latest.md (the run's date and set-up, the table,
the chart) and latest.png (the chart); --smoke writes smoke.* instead. --report-only rewrites the
.md from the .json, measuring nothing.
"""

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import ExitStack, contextmanager
from pathlib import Path

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loadgen import Target, close_members, fan_out_times, offer_load, open_members  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tertulia_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/2")
SERVER_CORE, GENERATOR_CORE = "0", 1
SATURATION_P99_MS = 100.0


def tertulia_env(redis: bool) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": DATABASE_URL,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
        "DJANGO_HTTPS": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CHAT_MESSAGE_RATE_LIMITS": "10000000/second",
        "TERTULIA_LOG_LEVEL": "WARNING",
        "REDIS_URL": REDIS_URL if redis else "",
    }
    return env


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


@contextmanager
def server(command: list[str], port: int, env: dict[str, str], ready_path: str | None):
    """Run `command` pinned to the server core; yield its pid once it answers."""
    log = (RESULTS / f"server-{port}.log").open("w")
    process = subprocess.Popen(
        ["taskset", "-c", SERVER_CORE, *command], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if ready_path:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{ready_path}", timeout=2)
            else:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server {command} did not start; see {log.name}") from None
            time.sleep(0.1)
    try:
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def tertulia_server(port: int, redis: bool):
    command = [
        str(BIN / "uvicorn"),
        "site_config.asgi:application",
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--ws",
        "websockets-sansio",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    return server(command, port, tertulia_env(redis), "/healthz")


def reference_server(port: int):
    return server([sys.executable, "bench/reference_server.py", str(port)], port, dict(os.environ), None)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def prepare_database(sockets: int, rooms: list[str]) -> list[str]:
    """Create the bench database if missing, migrate, make users with sessions and rooms."""
    import psycopg

    name = DATABASE_URL.rsplit("/", 1)[1]
    with psycopg.connect(DATABASE_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    python("manage.py", "migrate", "--noinput")
    python("manage.py", "collectstatic", "--noinput", "--verbosity", "0")
    cookies_file = RESULTS / "cookies.json"
    python("bench/create_users.py", "--count", str(sockets), "--output", str(cookies_file))
    script = "from chat.rooms import room_get_or_create\n" + "".join(
        f"room_get_or_create(name={room!r})\n" for room in rooms
    )
    python("manage.py", "shell", "--verbosity", "0", "-c", script)
    return json.loads(cookies_file.read_text())


class Configs:
    """The servers of each configuration, started on demand and kept for the whole run."""

    def __init__(self, stack: ExitStack, cookies: list[str]):
        self.stack, self.cookies, self.started = stack, cookies, {}

    def target(self, name: str) -> tuple[Target, list[int]]:
        if name not in self.started:
            if name == "reference":
                port = free_port()
                pids = [self.stack.enter_context(reference_server(port))]
                target = Target(name, [port], tertulia=False)
            else:
                redis = name == "tertulia-redis-2proc"
                ports = [free_port() for _ in range(2 if redis else 1)]
                pids = [self.stack.enter_context(tertulia_server(p, redis)) for p in ports]
                target = Target(name, ports, tertulia=True, cookies=self.cookies)
            self.started[name] = (target, pids)
        return self.started[name]


async def ramp(configs: Configs, name: str, levels: list[int], step_seconds: float, progress) -> list[dict]:
    target, pids = configs.target(name)
    rooms = [f"bench-{i}" for i in range(10)]
    members, _setup = await open_members(target, rooms, per_room=20, compression=False)
    steps = []
    try:
        # Warm-up, not measured: pooled connections, template caches, and every member's first
        # sync processed (until then a member takes the room's messages from the database).
        await offer_load(members, rate=levels[0] / 20, duration=2)
        for copies_per_s in levels:
            cpu_before = sum(cpu_seconds(p) for p in pids)
            result = await offer_load(members, rate=copies_per_s / 20, duration=step_seconds)
            cpu = sum(cpu_seconds(p) for p in pids) - cpu_before
            step = {
                "offered_copies_per_s": copies_per_s,
                "copies_per_s": round(result.copies_per_s),
                "messages_per_s": round(result.messages / result.seconds),
                "lost": result.lost,
                "duplicated": result.duplicated,
                "p50_ms": result.percentile(50),
                "p95_ms": result.percentile(95),
                "p99_ms": result.percentile(99),
                "max_ms": max(result.latencies_ms, default=float("nan")),
                "server_cpu_us_per_copy": round(cpu / max(result.delivered, 1) * 1e6, 1),
            }
            step["saturated"] = step["p99_ms"] > SATURATION_P99_MS or step["lost"] > 0
            steps.append(step)
            progress.set_postfix_str(f"{name} {copies_per_s}/s p99={step['p99_ms']:.1f}ms lost={step['lost']}")
            progress.update(1)
            if step["saturated"]:
                progress.update(len(levels) - len(steps))
                break
    finally:
        await close_members(members)
    return steps


async def big_room(configs: Configs, name: str, sockets: int, messages: int) -> dict:
    target, _pids = configs.target(name)
    members, setup = await open_members(target, ["bench-big"], per_room=sockets, compression=False)
    try:
        await fan_out_times(members, messages=3)  # warm-up, as in ramp(); not measured
        times = sorted(await fan_out_times(members, messages=messages))
    finally:
        await close_members(members)
    return {
        "sockets": sockets,
        "setup_s": round(setup, 2),
        "to_all_p50_ms": times[len(times) // 2],
        "to_all_p99_ms": times[min(len(times) - 1, int(0.99 * len(times)))],
        "to_all_max_ms": times[-1],
    }


async def idle(configs: Configs, name: str, sockets: int, compression: bool) -> dict:
    target, pids = configs.target(name)
    rss_before = sum(rss_kib(p) for p in pids)
    members, setup = await open_members(
        target, ["bench-idle"], per_room=sockets, compression=compression, concurrency=200
    )
    await asyncio.sleep(1)
    rss_after = sum(rss_kib(p) for p in pids)
    await close_members(members)
    await asyncio.sleep(1)
    return {
        "sockets": sockets,
        "compression": compression,
        "setup_s": round(setup, 2),
        "kib_per_socket": round((rss_after - rss_before) / sockets, 1),
    }


def best(steps: list[dict]) -> dict | None:
    fine = [s for s in steps if not s["saturated"]]
    return max(fine, key=lambda s: s["copies_per_s"]) if fine else None


def table(results: dict) -> str:
    rows = [
        "| measure | reference (bare websockets) | Tertulia, in-memory, 1 process | Tertulia, Redis, 2 processes |",
        "| --- | --- | --- | --- |",
    ]
    names = ["reference", "tertulia-inmem-1proc", "tertulia-redis-2proc"]
    ramp_best = {n: best(results["ramp"].get(n, [])) for n in names}
    ceiling = (ramp_best["reference"] or {}).get("copies_per_s") or 0

    def cell(n, fmt):
        b = ramp_best.get(n)
        return fmt(b) if b else "saturated at the first step"

    def ratio(n):
        b = ramp_best.get(n)
        return f" ({b['copies_per_s'] / ceiling:.2f}×)" if b and ceiling else ""

    rows.append(
        "| 20-member rooms: copies/s delivered before saturation | "
        + " | ".join(cell(n, lambda b: f"{b['copies_per_s']:,}") + ratio(n) for n in names)
        + " |"
    )
    rows.append(
        "| … latency p50 / p95 / p99 / max (ms) at that rate | "
        + " | ".join(
            cell(n, lambda b: f"{b['p50_ms']:.1f} / {b['p95_ms']:.1f} / {b['p99_ms']:.1f} / {b['max_ms']:.1f}")
            for n in names
        )
        + " |"
    )
    rows.append(
        "| … server CPU per copy (µs) | "
        + " | ".join(cell(n, lambda b: f"{b['server_cpu_us_per_copy']}") for n in names)
        + " |"
    )
    big = results.get("big_room", {})
    rows.append(
        f"| {big.get('reference', {}).get('sockets', 1000)}-member room: one message to all, p50 / p99 (ms) | "
        + " | ".join(
            f"{big[n]['to_all_p50_ms']:.1f} / {big[n]['to_all_p99_ms']:.1f}" if n in big else "–" for n in names
        )
        + " |"
    )
    for compression in (False, True):
        key = "deflate" if compression else "plain"
        idle_rows = results.get("idle", {}).get(key, {})
        rows.append(
            f"| idle sockets ({'permessage-deflate' if compression else 'no compression'}): KiB each; set-up (s) | "
            + " | ".join(
                f"{idle_rows[n]['kib_per_socket']} KiB; {idle_rows[n]['setup_s']} s for {idle_rows[n]['sockets']:,}"
                if n in idle_rows
                else "–"
                for n in names
            )
            + " |"
        )
    history = results.get("history")
    if history:
        rows.append(
            f"| room page with {history['messages']:,} messages stored: server time p50 / p99 (ms) | – | "
            f"{history['page_p50_ms']:.1f} / {history['page_p99_ms']:.1f} | – |"
        )
        rows.append(f"| older-history page query: plan | – | {history['older_plan']} | – |")
    return "\n".join(rows)


def chart(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for name, steps in results["ramp"].items():
        x = [s["offered_copies_per_s"] for s in steps]
        for key, style in (("p50_ms", "--"), ("p99_ms", "-")):
            ax.plot(x, [s[key] for s in steps], style, marker="o", label=f"{name} {key[:3]}")
    ax.axhline(SATURATION_P99_MS, color="grey", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("offered copies/s (20-member rooms)")
    ax.set_ylabel("latency, ms")
    ax.set_title("Tertulia vs bare websockets: latency against offered load")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


async def main(args) -> dict:
    os.sched_setaffinity(0, {GENERATOR_CORE})
    RESULTS.mkdir(parents=True, exist_ok=True)
    smoke = args.smoke
    idle_sockets = 100 if smoke else 5000
    big_sockets = 50 if smoke else 1000
    levels = (
        [1000, 2000]
        if smoke
        else [500, 1000, 1500, 2000, 2500, 5000, 10000, 15000, 20000, 25000, 30000, 40000, 60000, 80000, 100000, 130000]
    )
    step_seconds = 1.0 if smoke else 3.0
    rooms = [f"bench-{i}" for i in range(10)] + ["bench-big", "bench-idle"]
    cookies = prepare_database(max(idle_sockets, big_sockets, 200), rooms)
    results: dict = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "smoke": smoke,
        "ramp": {},
        "big_room": {},
        "idle": {"plain": {}, "deflate": {}},
        "pinning": f"servers on core {SERVER_CORE} (taskset), generator on core {GENERATOR_CORE}",
    }
    names = ["reference", "tertulia-inmem-1proc", "tertulia-redis-2proc"]
    with ExitStack() as stack, tqdm(total=len(levels) * len(names) + 2 * 2 + 2 * 2, desc="bench") as progress:
        configs = Configs(stack, cookies)
        for name in names:
            results["ramp"][name] = await ramp(configs, name, levels, step_seconds, progress)
        for name in names[:2]:
            progress.set_postfix_str(f"{name} big room")
            results["big_room"][name] = await big_room(configs, name, big_sockets, 10 if smoke else 30)
            progress.update(1)
            for compression in (False, True):
                progress.set_postfix_str(f"{name} idle deflate={compression}")
                key = "deflate" if compression else "plain"
                results["idle"][key][name] = await idle(configs, name, idle_sockets, compression)
                progress.update(1)
    if not args.skip_history:
        out = subprocess.run(
            [sys.executable, "bench/history.py", "--messages", str(2000 if smoke else 1_000_000)],
            cwd=ROOT,
            env=tertulia_env(False),
            capture_output=True,
            text=True,
        )
        if out.returncode:
            raise RuntimeError(out.stdout + out.stderr)
        results["history"] = json.loads(out.stdout.strip().splitlines()[-1])
    else:
        carry_history(results, RESULTS / f"{stem(args)}.json")
    return results


def carry_history(results: dict, previous_path: Path) -> None:
    """Keep the history figures of the previous run (a run with --skip-history measures none)."""
    try:
        previous = json.loads(previous_path.read_text())
    except (OSError, ValueError):
        return
    if "history" in previous:
        results["history"] = previous["history"]
        results["history_note"] = previous.get("history_note") or (
            f"history measured {previous['when']} (this run: --skip-history)"
        )


def stem(args) -> str:
    return "smoke" if args.smoke else "latest"


def report(results: dict, name: str) -> str:
    """The run's Markdown page: when and how it ran, the table, the chart."""
    kind = "Smoke run (tiny numbers: checks that the bench runs, measures nothing)" if results["smoke"] else "Run"
    lines = [
        "# `make bench`: Tertulia against the bare-websockets ceiling",
        "",
        f"{kind} of {results['when']}; {results['pinning']}. Every figure: `{name}.json`; how it is "
        "measured: `bench/run.py`.",
    ]
    if results.get("history_note"):
        lines.append(f"Note: {results['history_note']}.")
    lines += ["", table(results), "", f"![Latency against offered load]({name}.png)"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny numbers: checks the bench runs, measures nothing")
    parser.add_argument("--skip-history", action="store_true", help="keep the previous run's history figures")
    parser.add_argument("--report-only", action="store_true", help="rewrite the .md from the .json, measure nothing")
    args = parser.parse_args()
    name = stem(args)
    if args.report_only:
        results = json.loads((RESULTS / f"{name}.json").read_text())
    else:
        results = asyncio.run(main(args))
        (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2))
        chart(results, RESULTS / f"{name}.png")
    (RESULTS / f"{name}.md").write_text(report(results, name))
    print(table(results))
    print(f"\n{results['pinning']}. Written: bench/results/{name}.md" + ("" if args.report_only else ", .json, .png"))
