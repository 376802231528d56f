"""`make bench`: Tertulia's whole message path against the bare-`websockets` ceiling, one run.

    .venv/bin/python bench/run.py [--smoke] [--skip-history]

Servers run pinned to core 0 (`taskset -c 0`), this generator to core 1. Tertulia runs under
uvicorn as `make run` and gunicorn.conf.py's workers serve it (site_config.workers) with DEBUG off on a
PostgreSQL database of its own (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/tertulia_bench), with the in-memory layer (one process) or the
Redis layer (two processes, BENCH_REDIS_URL). Shapes:
- ramp: 200 sockets in 10 rooms of 20; offered copies/s rises until p99 > 100 ms or a copy is
  lost (saturation);
- big room: 1,000 sockets in one room; one message at a time, the time until all have it;
- idle: 5,000 sockets, with and without permessage-deflate: set-up time, server memory each;
- solo: 10 rooms of one member, 100 messages/s: server CPU per message (no fan-out), and the
  reference's for an echo, measured just before;
- history: 1,000,000 messages over 100 rooms (bench/history.py); --skip-history keeps the
  previous run's history figures, noted as such.
Writes bench/results/latest.json (every figure), latest.md (the run's date and set-up, the table,
the chart) and latest.png (the chart); --smoke writes smoke.* instead. --report-only rewrites the
.md from the .json, measuring nothing.
The servers and their database are in bench/servers.py, the shapes in bench/shapes.py, the
table, chart and page in bench/report.py.
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

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cache_state import access_versions_ensure, shared_reads_forget  # noqa: E402
from report import table, write  # noqa: E402
from servers import (  # noqa: E402
    GENERATOR_CORE,
    RESULTS,
    ROOT,
    SERVER_CORE,
    Configs,
    prepare_database,
    tertulia_env,
)
from shapes import big_room, idle, ramp, solo  # noqa: E402
from targets import targets_lines  # noqa: E402


async def main(args) -> dict:
    os.sched_setaffinity(0, {GENERATOR_CORE})
    RESULTS.mkdir(parents=True, exist_ok=True)
    smoke = args.smoke
    idle_sockets = 100 if smoke else 5000
    big_sockets = 50 if smoke else 1000
    levels = (
        [1000, 2000]
        if smoke
        else [
            500,
            1000,
            1500,
            2000,
            2500,
            5000,
            8000,
            10000,
            15000,
            20000,
            25000,
            30000,
            40000,
            60000,
            80000,
            100000,
            130000,
        ]
    )
    step_seconds = 1.0 if smoke else 3.0
    solo_rooms = 2 if smoke else 10
    rooms = [f"bench-{i}" for i in range(10)] + ["bench-big", "bench-idle"]
    rooms += [f"bench-solo-{i}" for i in range(solo_rooms)]
    cookies = prepare_database(max(idle_sockets, big_sockets, 200), rooms)
    access_versions_ensure()  # returning members, as their page views leave them
    shared_reads_forget()  # the connects measured are first ones: no read shared by a run minutes before
    results: dict = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "smoke": smoke,
        "ramp": {},
        "big_room": {},
        "idle": {"plain": {}, "deflate": {}},
        "pinning": f"servers on core {SERVER_CORE} (taskset), generator on core {GENERATOR_CORE}",
    }
    names = ["reference", "tertulia-inmem-1proc", "tertulia-redis-2proc"]
    with ExitStack() as stack, tqdm(total=len(levels) * len(names) + 2 * 2 + 2 * 2 + 2, desc="bench") as progress:
        configs = Configs(stack, cookies)
        # Each configuration's servers run only while it is measured (Configs.stop): idle ones
        # share the server core with the one measured. The big room and idle shapes share one.
        for name in names:
            results["ramp"][name] = await ramp(configs, name, levels, step_seconds, progress)
            configs.stop(name)
        # The reference echoing in rooms of one, at the same rate and just before: what a socket's
        # frame in and frame out cost on this machine this hour, whatever the server (a wake-up
        # from idle costs hundreds of µs on these VMs; docs/performance.md, "Session 30").
        for key, name in (("solo_reference", names[0]), ("solo", names[1])):
            progress.set_postfix_str(f"{name} solo")
            results[key] = await solo(configs, name, solo_rooms, rate=100, seconds=2 if smoke else 5)
            configs.stop(name)
            progress.update(1)
        for name in names[:2]:
            progress.set_postfix_str(f"{name} big room")
            results["big_room"][name] = await big_room(configs, name, big_sockets, 10 if smoke else 30)
            progress.update(1)
            for compression in (False, True):
                # Each on a fresh server: one that had the big room's sockets (or the other idle
                # shape's) reuses the memory they left, and showed 30.5 KiB a socket where a
                # fresh one shows 38-40 (docs/performance.md, "Session 30").
                configs.stop(name)
                progress.set_postfix_str(f"{name} idle deflate={compression}")
                key = "deflate" if compression else "plain"
                results["idle"][key][name] = await idle(configs, name, idle_sockets, compression)
                progress.update(1)
            configs.stop(name)
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
    write(results, RESULTS, name, measured=not args.report_only)
    print(table(results))
    print("\n" + "\n".join(targets_lines(results)))
    print(f"\n{results['pinning']}. Written: bench/results/{name}.md" + ("" if args.report_only else ", .json, .png"))
