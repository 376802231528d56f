"""What a socket queues (site_config.slim_queue.SlimQueue): uvicorn's messages, the hub's events."""

import asyncio

import pytest

from site_config.slim_queue import SlimQueue


async def test_messages_come_out_in_the_order_put():
    queue = SlimQueue()
    assert queue.empty()
    for n in range(3):
        queue.put_nowait(n)
    assert not queue.empty()
    assert [await queue.get() for _ in range(3)] == [0, 1, 2]
    assert queue.empty()


async def test_a_waiting_get_is_woken_by_a_put():
    queue = SlimQueue()
    getter = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    assert not getter.done()
    queue.put_nowait("frame")
    assert await asyncio.wait_for(getter, 1) == "frame"
    assert queue.getters == []


async def test_each_message_goes_to_one_of_several_waiting_getters():
    queue = SlimQueue()
    getters = [asyncio.ensure_future(queue.get()) for _ in range(3)]
    await asyncio.sleep(0)
    for n in range(3):
        queue.put_nowait(n)
    assert sorted(await asyncio.wait_for(asyncio.gather(*getters), 1)) == [0, 1, 2]


async def test_a_get_cancelled_while_waiting_leaves_no_getter_and_loses_nothing():
    queue = SlimQueue()
    getter = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    getter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await getter
    assert queue.getters == []
    queue.put_nowait("frame")
    assert await queue.get() == "frame"


async def test_a_getter_cancelled_after_its_wake_up_passes_the_message_on():
    queue = SlimQueue()
    first = asyncio.ensure_future(queue.get())
    second = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    queue.put_nowait("frame")  # wakes `first`, which is cancelled before it runs
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await asyncio.wait_for(second, 1) == "frame"
