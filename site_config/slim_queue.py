"""asyncio.Queue's few operations in a tenth of its memory, for what every open socket queues:
the ASGI messages uvicorn has for the application (site_config.workers) and the events the hub
has for the socket (chat.inbox)."""

import asyncio


class SlimQueue:
    """Items in the order put, unbounded: the three operations of asyncio.Queue that uvicorn's
    protocol and a socket's inbox use (`put_nowait`, `get`, `empty`).

    An asyncio.Queue holds four deques (its items, its waiting getters and putters, and the
    Event behind `join()`), 632 bytes each even when empty, and every open socket has two
    queues, nearly always empty: 3 KiB each a socket (docs/performance.md, "Session 31"). Here
    two lists and a future only while a `get()` waits. Several getters may wait; each item goes
    to one of them, and a getter cancelled after it was woken passes its wake-up on, as
    asyncio.Queue's does."""

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
        """The oldest item, once there is one. Raises CancelledError if cancelled while it
        waits (the item stays for the next getter)."""
        while not self.items:
            getter = asyncio.get_running_loop().create_future()
            self.getters.append(getter)
            try:
                await getter
            except BaseException:
                if getter in self.getters:
                    self.getters.remove(getter)
                elif self.items:
                    self.wake_one()  # woken, then cancelled: the item is another's
                raise
        return self.items.pop(0)
