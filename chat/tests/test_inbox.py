"""chat.inbox: a socket's frames read with its inbox's events (the inbox itself, a SlimQueue:
site_config/tests/test_slim_queue.py)."""

import asyncio

import pytest
from channels.exceptions import StopConsumer

from chat.inbox import inbox_dispatch
from site_config.slim_queue import SlimQueue


async def test_inbox_dispatch_reads_one_frame_at_a_time_and_keeps_the_order_things_came():
    """A frame is read (receive called) only once the one before is handled: the server's
    back-pressure; the inbox's events and the frames are handled in the order they came."""
    frames, handled, reads_early = asyncio.Queue(), [], []
    inbox = SlimQueue()
    reads = 0

    async def receive():
        nonlocal reads
        reads_early.append(reads - sum(1 for m in handled if m.startswith("frame")))  # 0: none unhandled
        reads += 1
        return await frames.get()

    async def dispatch(message):
        handled.append(message)
        if message == "frame 1":
            inbox.put_nowait("event 2")  # comes while frame 1 is handled: after it
            frames.put_nowait("frame 3")
            await asyncio.sleep(0.01)
        if message == "stop":
            raise StopConsumer

    frames.put_nowait("frame 1")
    loop = asyncio.ensure_future(inbox_dispatch(receive, inbox, dispatch))
    await asyncio.sleep(0.05)
    inbox.put_nowait("stop")
    with pytest.raises(StopConsumer):
        await asyncio.wait_for(loop, 1)
    assert handled == ["frame 1", "event 2", "frame 3", "stop"]
    assert reads == 3 and reads_early == [0, 0, 0]


async def test_inbox_dispatch_ends_with_no_receive_left_waiting():
    inbox, waiting = SlimQueue(), []

    async def receive():
        waiting.append(asyncio.current_task())
        await asyncio.Event().wait()

    async def dispatch(message):
        raise StopConsumer

    loop = asyncio.ensure_future(inbox_dispatch(receive, inbox, dispatch))
    await asyncio.sleep(0.01)
    inbox.put_nowait("event")
    with pytest.raises(StopConsumer):
        await asyncio.wait_for(loop, 1)
    await asyncio.sleep(0)
    assert len(waiting) == 1 and waiting[0].cancelled()
