"""Profile Tertulia under load: py-spy on one uvicorn process while bench/loadgen.py offers
COPIES copies/s in one of the bench's shapes (after `make bench` has prepared the database):
`ramp` (20-member rooms, the default), `solo` (rooms of one member: the message path alone)
or `big` (one 1,000-member room: the fan-out); `connect` profiles 2,000 sockets opening in one
room (as the idle shape's, COPIES unused); `--redis`: the server on the Redis layer, cache
and stores (one process), written as profile-SHAPE-redis.

    .venv/bin/pip install py-spy && .venv/bin/python bench/cpu_profile.py [COPIES] [--gil] [--shape S] [--redis]

Writes bench/results/profile-SHAPE.txt (the functions on the most sampled stacks, cumulative)
and profile-SHAPE.collapsed (py-spy's collapsed stacks: for flamegraph.pl or speedscope).
"""

import asyncio
import json
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cache_state  # noqa: E402
import servers  # noqa: E402
from loadgen import Target, close_members, offer_load, open_members  # noqa: E402
from shapes import cpu_seconds  # noqa: E402

SHAPES = {  # shape: (rooms, members in each)
    "ramp": ([f"bench-{i}" for i in range(10)], 20),
    "solo": ([f"bench-solo-{i}" for i in range(10)], 1),
    "big": (["bench-big"], 1000),
}
CONNECTS = 2000  # sockets opened in bench-idle for the `connect` shape


async def main(copies: int, gil: bool, shape: str, redis: bool = False) -> None:
    name = f"{shape}-redis" if redis else shape
    raw = servers.RESULTS / f"profile-{name}.collapsed"
    cookies = json.loads((servers.RESULTS / "cookies.json").read_text())
    cache_state.access_versions_ensure()  # returning members, as make bench measures them
    port = servers.free_port()
    rooms, size = SHAPES.get(shape, (["bench-idle"], CONNECTS))
    with servers.tertulia_server(port, redis=redis) as pid:
        target = Target("t", [port], True, cookies)
        if shape == "connect":
            members, _ = await open_members(target, rooms, 50, False)  # warm-up
            await close_members(members)
        else:
            members, _ = await open_members(target, rooms, size, False)
            await offer_load(members, copies / size, 2)  # warm-up
        spy = subprocess.Popen(
            [
                str(servers.BIN / "py-spy"),
                "record",
                "-p",
                str(pid),
                "-d",
                "30" if shape == "connect" else "8",
                "-o",
                str(raw),
                "-f",
                "raw",
                "--nonblocking",
                "--rate",
                "1000",  # samples a second (py-spy's default, 100, gives few with --gil)
            ]
            + (["--gil"] if gil else []),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if shape == "connect":
            cpu = cpu_seconds(pid)
            members, seconds = await open_members(target, rooms, size, False, concurrency=200)
            cpu = cpu_seconds(pid) - cpu
            print(f"{size} sockets connected in {seconds:.2f} s, server CPU {cpu / size * 1e3:.2f} ms each")
            spy.send_signal(signal.SIGINT)  # py-spy writes what it has
        for _ in range(0 if shape == "connect" else 4):
            result = await offer_load(members, copies / size, 2)
            p50, p99 = result.percentile(50), result.percentile(99)
            print(f"{copies} copies/s offered: p50 {p50:.1f} ms, p99 {p99:.1f} ms, lost {result.lost}")
        spy.wait()
        await close_members(members)
    cumulative, total = Counter(), 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        total += int(count)
        for function in {frame.split(" (")[0] for frame in stack.split(";")}:
            cumulative[function] += int(count)
    lines = [f"{count / total * 100:5.1f}%  {function}" for function, count in cumulative.most_common(80)]
    (servers.RESULTS / f"profile-{name}.txt").write_text(
        f"py-spy {'--gil ' if gil else ''}at {copies} copies/s, {len(rooms)} rooms of {size}, {total} samples\n"
        + "\n".join(lines)
        + "\n"
    )
    print(f"bench/results/profile-{name}.txt ({total} samples)")


if __name__ == "__main__":
    copies = int(next((a for a in sys.argv[1:] if a.isdigit()), 2000))
    shape = sys.argv[sys.argv.index("--shape") + 1] if "--shape" in sys.argv else "ramp"
    asyncio.run(main(copies, "--gil" in sys.argv, shape, "--redis" in sys.argv))
