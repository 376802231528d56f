"""A socket's inbox: the events its process's hub queued for it while it was busy (chat.hub),
and the server's next frame once it came. The inbox itself is a SlimQueue
(site_config.slim_queue: asyncio.Queue's operations in a tenth of its memory, as every open
socket has one, nearly always empty); this module reads it with the socket's frames.
"""

import asyncio

from site_config.slim_queue import SlimQueue


async def inbox_dispatch(receive, inbox: SlimQueue, dispatch) -> None:
    """Channels' `await_many_dispatch([receive, inbox.get], dispatch)`: call `dispatch` (async)
    with each message of the ASGI `receive` and each item of `inbox`, one at a time, in the order
    they came, until `dispatch` raises (StopConsumer, at the socket's end), which propagates, as
    does an exception `receive` raised. Channels' function waits with `asyncio.wait` and makes a
    task for every message; here one `receive()` task at a time puts itself in the inbox when
    done, and the next is started only once its message is handled: the server keeps reading
    one frame at a time (uvicorn pauses reading until the app takes each one, its only
    back-pressure against a flood)."""
    loop = asyncio.get_running_loop()
    pending = None
    try:
        while True:
            if pending is None:
                pending = loop.create_task(receive())
                pending.add_done_callback(inbox.put_nowait)
            item = await inbox.get()
            if item is pending:
                pending = None
                await dispatch(item.result())
            else:
                await dispatch(item)
    finally:
        if pending is not None:
            pending.remove_done_callback(inbox.put_nowait)
            pending.cancel()
