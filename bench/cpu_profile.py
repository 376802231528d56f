"""Profile Tertulia under load: py-spy on one uvicorn process while bench/loadgen.py offers
COPIES copies/s in 20-member rooms (after `make bench` has prepared the database).

    .venv/bin/pip install py-spy && .venv/bin/python bench/cpu_profile.py [COPIES] [--gil]

Writes bench/results/profile.txt: the functions on the most sampled stacks, cumulative.
"""

import asyncio
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import servers  # noqa: E402
from loadgen import Target, close_members, offer_load, open_members  # noqa: E402


async def main(copies: int, gil: bool) -> None:
    raw = servers.RESULTS / "profile.raw"
    cookies = json.loads((servers.RESULTS / "cookies.json").read_text())
    port = servers.free_port()
    with servers.tertulia_server(port, redis=False) as pid:
        members, _ = await open_members(
            Target("t", [port], True, cookies), [f"bench-{i}" for i in range(10)], 20, False
        )
        await offer_load(members, copies / 20, 2)  # warm-up
        spy = subprocess.Popen(
            [
                str(servers.BIN / "py-spy"),
                "record",
                "-p",
                str(pid),
                "-d",
                "8",
                "-o",
                str(raw),
                "-f",
                "raw",
                "--nonblocking",
            ]
            + (["--gil"] if gil else []),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(4):
            result = await offer_load(members, copies / 20, 2)
            p50, p99 = result.percentile(50), result.percentile(99)
            print(f"{copies} copies/s offered: p50 {p50:.1f} ms, p99 {p99:.1f} ms, lost {result.lost}")
        spy.wait()
        await close_members(members)
    cumulative, total = Counter(), 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        total += int(count)
        for name in {frame.split(" (")[0] for frame in stack.split(";")}:
            cumulative[name] += int(count)
    lines = [f"{count / total * 100:5.1f}%  {name}" for name, count in cumulative.most_common(80)]
    (servers.RESULTS / "profile.txt").write_text(
        f"py-spy {'--gil ' if gil else ''}at {copies} copies/s, 200 sockets in 10 rooms, {total} samples\n"
        + "\n".join(lines)
        + "\n"
    )
    print(f"bench/results/profile.txt ({total} samples)")


if __name__ == "__main__":
    copies = int(next((a for a in sys.argv[1:] if a.isdigit()), 2000))
    asyncio.run(main(copies, "--gil" in sys.argv))
