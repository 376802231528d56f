"""What each reader's own language and time zone costs: server CPU per delivered copy with every
reader in the site's variant, and with readers spread over three (issue #13: at most 1.2×).

    .venv/bin/python bench/variants.py [--rate COPIES] [--seconds 8] [--rounds 3] [--redis]

The ramp's shape of `make bench` (bench/run.py): 200 sockets in 10 rooms of 20, Tertulia under
uvicorn pinned to the server core (bench/servers.py: its own PostgreSQL database, DEBUG off), the
in-memory layer in one process (--redis: the Redis layer, two processes), a fixed offered load
(--rate copies/s, below saturation: 600, 300 with --redis) for --seconds after a warm-up. "one variant": no reader has
saved preferences (all the site's, en/UTC); "three variants": reader i has the site's, es in
America/Bogota or en in Europe/Madrid by i % 3, so every room has all three. The two alternate
for --rounds rounds (the machine's other load falls on both alike); each round reconnects
every socket after saving the preferences (a socket's variant is read at connect). Writes
bench/results/variants.json (by configuration) and its own section of bench/results/latest.md.
"""

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import latest_section_put  # noqa: E402
from servers import GENERATOR_CORE, RESULTS, Configs, prepare_database, python  # noqa: E402
from shapes import measured_load  # noqa: E402

TARGET_RATIO = 1.2
BEGIN, END = "<!-- bench/variants.py: begin -->", "<!-- bench/variants.py: end -->"
ROOMS = [f"bench-{i}" for i in range(10)]
SOCKETS = 200
VARIANTS = {1: [("", "")], 3: [("", ""), ("es", "America/Bogota"), ("en", "Europe/Madrid")]}


def preferences_save(variants: int, redis: bool) -> None:
    """Give bench user i (as create_users.py orders them: by id) the i % `variants`-th variant."""
    script = f"""
from django.contrib.auth import get_user_model
from accounts.models import Profile
choices = {VARIANTS[variants]!r}
users = get_user_model().objects.filter(username__in=[f"bench{{i}}" for i in range({SOCKETS})]).order_by("id")
Profile.objects.filter(user__in=users).delete()
Profile.objects.bulk_create(
    Profile(user=user, language=choices[i % len(choices)][0], time_zone=choices[i % len(choices)][1])
    for i, user in enumerate(users)
)
# The rooms' variants as the sockets about to connect will note them: none left from the other
# kind of run (entries live 120 s), which senders would otherwise render for nobody.
from django.core.cache import cache
from chat.models import Room
from chat.variant_rooms import _key
cache.delete_many([_key(pk) for pk in Room.objects.filter(slug__startswith="bench-").values_list("pk", flat=True)])
"""
    python("manage.py", "shell", "--verbosity", "0", "-c", script, redis=redis)


async def measure(configs: Configs, name: str, rate: float, seconds: float) -> dict:
    """One measured step of `rate` copies/s on 200 freshly opened sockets, after a warm-up."""
    result, cpu = await measured_load(configs, name, ROOMS, SOCKETS // len(ROOMS), rate / 20, seconds)
    return {
        "copies": result.delivered,
        "lost": result.lost,
        "p50_ms": result.percentile(50),
        "p99_ms": result.percentile(99),
        "cpu_us_per_copy": round(cpu / max(result.delivered, 1) * 1e6, 1),
    }


async def main(args) -> dict:
    os.sched_setaffinity(0, {GENERATOR_CORE})
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "tertulia-redis-2proc" if args.redis else "tertulia-inmem-1proc"
    cookies = prepare_database(SOCKETS, ROOMS)
    runs: dict[int, list[dict]] = {1: [], 3: []}
    load_before = os.getloadavg()[0]
    with ExitStack() as stack:
        configs = Configs(stack, cookies)
        for round_ in range(args.rounds):
            for variants in (1, 3) if round_ % 2 == 0 else (3, 1):
                preferences_save(variants, args.redis)
                runs[variants].append(await measure(configs, name, args.rate, args.seconds))
                print(f"round {round_ + 1}, {variants} variant(s): {runs[variants][-1]}", flush=True)
        preferences_save(1, args.redis)
    one, three = (statistics.median(r["cpu_us_per_copy"] for r in runs[n]) for n in (1, 3))
    return {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "config": name,
        "rate": args.rate,
        "seconds": args.seconds,
        "runs": {str(n): r for n, r in runs.items()},
        "one_variant_us": one,
        "three_variants_us": three,
        "ratio": round(three / one, 3),
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
    }


def section(runs: dict) -> str:
    """The Markdown section of latest.md for `runs` (results by configuration)."""
    rows, lines = [], []
    for results in runs.values():
        met = "met" if results["ratio"] <= TARGET_RATIO else "NOT met"
        lines.append(
            f"- {results['config']}, {results['rate']:.0f} copies/s offered for {results['seconds']:.0f} s a run "
            f"(run of {results['when']}; load average {results['load_before']:.1f} before, "
            f"{results['load_after']:.1f} after, on {os.cpu_count()} CPUs): **{results['ratio']:.2f}×**, {met}"
        )
        for label, n, key in (("one (site's)", "1", "one_variant_us"), ("three", "3", "three_variants_us")):
            each = " / ".join(str(r["cpu_us_per_copy"]) for r in results["runs"][n])
            p99 = statistics.median(r["p99_ms"] for r in results["runs"][n])
            lost = sum(r["lost"] for r in results["runs"][n])
            rows.append(f"| {results['config']} | {label} | {each} | {results[key]:.1f} | {lost} | {p99:.1f} |")
    return f"""{BEGIN}
## Readers in several variants (`bench/variants.py`)

200 sockets in 10 rooms of 20, readers all in the site's variant (en, UTC) or spread over three
(the site's; es, America/Bogota; en, Europe/Madrid: all three in every room), runs of each kind
alternating. Server CPU per delivered copy, three variants against one (target ≤ {TARGET_RATIO}×):
{chr(10).join(lines)}

| configuration | variants | CPU µs per copy, each run | median | copies lost | p99 ms (median) |
| --- | --- | --- | --- | --- | --- |
{chr(10).join(rows)}
{END}
"""


def record(results: dict) -> None:
    """Keep `results` in variants.json beside the other configuration's, and put the section of
    both into latest.md (report.latest_section_put)."""
    path = RESULTS / "variants.json"
    runs = json.loads(path.read_text()) if path.exists() else {}
    runs[results["config"]] = results
    path.write_text(json.dumps(runs, indent=2))
    latest_section_put(BEGIN, END, section(runs))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, help="copies/s offered (default 600; 300 with --redis)")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--redis", action="store_true")
    args = parser.parse_args()
    args.rate = args.rate or (300.0 if args.redis else 600.0)  # well below each one's saturation
    results = asyncio.run(main(args))
    record(results)
    print(f"three variants / one: {results['ratio']:.2f}× (target ≤ {TARGET_RATIO}×)")
