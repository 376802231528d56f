"""chat.inbox: a socket's queued events, in order, for its one reader, and its frames with them."""

import asyncio

import pytest
from channels.exceptions import StopConsumer

from chat.inbox import Inbox, inbox_dispatch


async def test_items_come_out_in_order_and_a_waiting_reader_is_woken():
    inbox = Inbox()
    inbox.put_nowait(1)
    inbox.put_nowait(2)
    assert [await inbox.get(), await inbox.get()] == [1, 2] and inbox.empty()
    reader = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    assert not reader.done()
    inbox.put_nowait(3)
    assert await asyncio.wait_for(reader, 1) == 3


async def test_a_cancelled_wait_leaves_the_inbox_usable():
    inbox = Inbox()
    reader = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    reader.cancel()
    await asyncio.gather(reader, return_exceptions=True)
    assert inbox.waiter is None
    inbox.put_nowait("after")
    assert await asyncio.wait_for(inbox.get(), 1) == "after"


async def test_inbox_dispatch_reads_one_frame_at_a_time_and_keeps_the_order_things_came():
    """A frame is read (receive called) only once the one before is handled: the server's
    back-pressure; the inbox's events and the frames are handled in the order they came."""
    frames, handled, reads_early = asyncio.Queue(), [], []
    inbox = Inbox()
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
    inbox, waiting = Inbox(), []

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
