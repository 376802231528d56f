"""Compare channels-redis layers for Tertulia's fan-out, measured in one run.

    .venv/bin/python bench/layers.py [redis://127.0.0.1:6379/0]

For each layer: a room group of MEMBERS channels; (1) steady: SENDS group_sends, each drained by
every member before the next, timing the whole; (2) burst: BURST group_sends while members read
nothing (a slow or busy consumer), then drain and count what was lost; (3) Redis memory used.
Prints one line per layer. Absolute times vary on shared machines: compare the two lines.
"""

import asyncio
import sys
import time

import redis.asyncio as redis
from channels_redis.core import RedisChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer

MEMBERS, SENDS, BURST = 50, 200, 300
PAYLOAD = {"type": "chat.message", "html": "<div id='messages' hx-swap-oob='beforeend'>" + "x" * 400 + "</div>"}


async def drain(layer, channel, timeout=0.5):
    got = 0
    while True:
        try:
            await asyncio.wait_for(layer.receive(channel), timeout)
            got += 1
        except TimeoutError:
            return got


async def measure(name, layer, url):
    client = redis.from_url(url)
    await client.flushdb()
    before = (await client.info("memory"))["used_memory"]
    channels = [await layer.new_channel() for _ in range(MEMBERS)]
    for channel in channels:
        await layer.group_add("room.bench", channel)

    start = time.perf_counter()
    for _ in range(SENDS):
        await layer.group_send("room.bench", PAYLOAD)
        await asyncio.gather(*(layer.receive(channel) for channel in channels))
    steady = time.perf_counter() - start

    for _ in range(BURST):
        await layer.group_send("room.bench", PAYLOAD)
    peak = (await client.info("memory"))["used_memory"] - before
    received = sum(await asyncio.gather(*(drain(layer, channel) for channel in channels)))
    lost = BURST * MEMBERS - received
    print(
        f"{name:<24} steady: {SENDS * MEMBERS / steady:>8,.0f} copies/s "
        f"({steady / SENDS * 1000:.2f} ms per group_send to {MEMBERS})   "
        f"burst of {BURST}: lost {lost}/{BURST * MEMBERS} copies   "
        f"Redis memory at burst peak: {peak / 1024:,.0f} KiB"
    )
    for channel in channels:
        await layer.group_discard("room.bench", channel)
    await client.aclose()


async def main(url):
    await measure("RedisChannelLayer", RedisChannelLayer(hosts=[url]), url)
    await measure("RedisPubSubChannelLayer", RedisPubSubChannelLayer(hosts=[url]), url)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "redis://127.0.0.1:6379/15"))
