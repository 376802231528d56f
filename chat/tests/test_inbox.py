"""chat.inbox.Inbox: a socket's queued events, in order, for its one reader."""

import asyncio

from chat.inbox import Inbox


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
