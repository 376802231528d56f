"""A socket's inbox: the events its process's hub queued for it while it was busy (chat.hub),
and the server's next frame once it came (inbox_dispatch).

What asyncio.Queue does for one reader, the socket's own dispatch loop, in a tenth of the
memory: an empty asyncio.Queue holds three deques (3.3 KB), and every open socket has an inbox,
nearly always empty; this holds a list and, while its reader waits, a future. 5,000 idle sockets
kept 3 KiB each less (bench/run.py's idle shape).
"""

import asyncio


class Inbox:
    """Events in the order put, for one reader at a time."""

    __slots__ = ("items", "waiter")

    def __init__(self):
        self.items: list = []
        self.waiter: asyncio.Future | None = None

    def put_nowait(self, item) -> None:
        """Queue `item`, waking the reader if it waits."""
        self.items.append(item)
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    async def get(self):
        """The oldest item, waiting for one if there is none (cancelling the wait leaves the
        inbox as it was)."""
        while not self.items:
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        return self.items.pop(0)

    def empty(self) -> bool:
        return not self.items


async def inbox_dispatch(receive, inbox: Inbox, dispatch) -> None:
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
