"""One shape of `make bench` on one configuration, for a quick look between full runs (after
`make bench` has prepared the database): prints the shape's figures as JSON.

    .venv/bin/python bench/one_shape.py SHAPE [CONFIG]

SHAPE: ramp, big, idle, solo; CONFIG: tertulia-inmem-1proc (default), tertulia-redis-2proc,
reference. Ramp levels as in bench/run.py.
"""

import asyncio
import json
import os
import sys
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cache_state import access_versions_ensure  # noqa: E402
from servers import GENERATOR_CORE, RESULTS, Configs  # noqa: E402
from shapes import big_room, idle, ramp, solo  # noqa: E402


class Quiet:
    def set_postfix_str(self, text: str) -> None:
        print(text, file=sys.stderr)

    def update(self, n: int) -> None:
        pass


async def main(shape: str, name: str) -> dict:
    os.sched_setaffinity(0, {GENERATOR_CORE})
    cookies = json.loads((RESULTS / "cookies.json").read_text())
    access_versions_ensure()  # returning members, as make bench measures them
    levels = [500, 1000, 1500, 2000, 2500, 5000, 8000, 10000, 15000, 20000, 25000, 30000, 40000, 60000]
    with ExitStack() as stack:
        configs = Configs(stack, cookies)
        if shape == "ramp":
            return {"ramp": await ramp(configs, name, levels, 3.0, Quiet())}
        if shape == "big":
            return await big_room(configs, name, 1000, 30)
        if shape == "idle":
            return await idle(configs, name, 5000, False)
        return await solo(configs, name, 10, rate=100, seconds=5)


if __name__ == "__main__":
    shape = sys.argv[1]
    print(json.dumps(asyncio.run(main(shape, sys.argv[2] if len(sys.argv) > 2 else "tertulia-inmem-1proc")), indent=1))
