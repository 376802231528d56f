"""The load shapes `make bench` measures on each configuration, and the server's CPU and memory
read from /proc:
- ramp: 200 sockets in 10 rooms of 20; offered copies/s rises until p99 > 100 ms or a copy is
  lost (saturation);
- big room: every socket in one room; one message at a time, the time until all have it;
- idle: many sockets, with or without permessage-deflate: set-up time, server memory each;
- solo: rooms of one member: server CPU per message, with no fan-out.
"""

import asyncio
import os
import time
from pathlib import Path

from loadgen import close_members, fan_out_times, offer_load, open_members
from servers import Configs

SATURATION_P99_MS = 100.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def quiet(pids: list[int], limit_s: float = 20.0) -> None:
    """Wait until the servers `pids` are idle (under 10% of a core for half a second), at most
    `limit_s`: a shape measured after a saturated ramp step would otherwise be charged the
    backlog it left (the solo figure doubled that way)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        before = sum(cpu_seconds(p) for p in pids)
        await asyncio.sleep(0.5)
        if sum(cpu_seconds(p) for p in pids) - before < 0.05:
            return


async def ramp(configs: Configs, name: str, levels: list[int], step_seconds: float, progress) -> list[dict]:
    """One step a level (copies/s offered), until the first saturated one."""
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
    """One message at a time to `sockets` members of one room: the time until all have it, and
    the server's CPU per delivered copy (fan-out dominated)."""
    target, pids = configs.target(name)
    await quiet(pids)
    members, setup = await open_members(target, ["bench-big"], per_room=sockets, compression=False)
    try:
        await fan_out_times(members, messages=3)  # warm-up, as in ramp(); not measured
        cpu_before = sum(cpu_seconds(p) for p in pids)
        times = sorted(await fan_out_times(members, messages=messages))
        cpu = sum(cpu_seconds(p) for p in pids) - cpu_before
    finally:
        await close_members(members)
    return {
        "sockets": sockets,
        "setup_s": round(setup, 2),
        "server_cpu_us_per_copy": round(cpu / (messages * sockets) * 1e6, 1),
        "to_all_p50_ms": times[len(times) // 2],
        "to_all_p99_ms": times[min(len(times) - 1, int(0.99 * len(times)))],
        "to_all_max_ms": times[-1],
    }


async def idle(configs: Configs, name: str, sockets: int, compression: bool) -> dict:
    target, pids = configs.target(name)
    # A few sockets first, closed again: what a server loads once (templates, caches) is not
    # counted a socket; too few to leave much memory for the measured ones to reuse.
    await close_members((await open_members(target, ["bench-idle"], 20, compression=compression))[0])
    await quiet(pids)
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


async def measured_load(configs: Configs, name: str, rooms: list[str], per_room: int, rate: float, seconds: float):
    """Open `per_room` sockets in each of `rooms` on configuration `name`, offer `rate` messages/s
    for 2 s (a warm-up: first syncs, caches; not measured), then for `seconds`: that step's
    loadgen.StepResult and the server CPU seconds it took. The sockets are closed after."""
    target, pids = configs.target(name)
    await quiet(pids)
    members, _setup = await open_members(target, rooms, per_room, compression=False)
    try:
        await offer_load(members, rate=rate, duration=2)
        cpu_before = sum(cpu_seconds(p) for p in pids)
        result = await offer_load(members, rate=rate, duration=seconds)
        return result, sum(cpu_seconds(p) for p in pids) - cpu_before
    finally:
        await close_members(members)


async def solo(configs: Configs, name: str, rooms: int, rate: float, seconds: float) -> dict:
    """Messages in rooms of one member each (no fan-out): the server's CPU per message, all of
    it (frame, validation, rate limit, the database write and commit, rendering, the sender's
    answer and its own copy)."""
    solo_rooms = [f"bench-solo-{i}" for i in range(rooms)]
    result, cpu = await measured_load(configs, name, solo_rooms, 1, rate, seconds)
    return {
        "messages": result.messages,
        "lost": result.lost,
        "p99_ms": result.percentile(99),
        "server_cpu_us_per_message": round(cpu / max(result.messages, 1) * 1e6, 1),
    }
