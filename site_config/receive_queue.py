"""A socket's ASGI messages not yet received by its application (site_config.workers)."""

import asyncio


class ReceiveQueue:
    """The messages uvicorn's WebSocket protocol has for its application's `receive()`, in the
    order put: the three operations of asyncio.Queue that protocol uses (`put_nowait`, `get`,
    `empty`), unbounded like its queue.

    An asyncio.Queue holds four deques (its items, its waiting getters and putters, and the
    Event behind `join()`), 632 bytes each even when empty: 2.5 KiB an idle socket spends on
    a queue that holds nothing (docs/performance.md, "Session 31"). Here two lists and a
    future only while a `get()` waits. Several getters may wait; each message goes to one of
    them, and a getter cancelled after it was woken passes its wake-up on, as asyncio.Queue's
    does."""

    __slots__ = ("items", "getters")

    def __init__(self) -> None:
        self.items: list = []
        self.getters: list[asyncio.Future] = []

    def empty(self) -> bool:
        return not self.items

    def put_nowait(self, item) -> None:
        """Append `item`; wake the longest-waiting getter, if any. Never blocks or raises."""
        self.items.append(item)
        self.wake_one()

    def wake_one(self) -> None:
        while self.getters:
            getter = self.getters.pop(0)
            if not getter.done():
                getter.set_result(None)
                return

    async def get(self):
        """The oldest message, once there is one. Raises CancelledError if cancelled while it
        waits (the message stays for the next getter)."""
        while not self.items:
            getter = asyncio.get_running_loop().create_future()
            self.getters.append(getter)
            try:
                await getter
            except BaseException:
                if getter in self.getters:
                    self.getters.remove(getter)
                elif self.items:
                    self.wake_one()  # woken, then cancelled: the message is another's
                raise
        return self.items.pop(0)
