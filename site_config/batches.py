"""Many coroutines' calls of one read, made together: one thread hop (a database read) or one
round trip (a cache's) for all of them.

A crowd of sockets opening at once (a deploy's reconnects) each read their session and user, then
their sidebar, on the thread pool: two hops a connect, each a future, a context copy, a work
queue's wake-up and the loop's, for a read of a fraction of a millisecond. A ThreadBatch takes
the calls made while its last batch was running (or, when idle, those made in the same turn of
the event loop) and runs them as one call on the thread pool, as a database's group commit
takes the transactions that arrived during the last one's flush: one caller alone waits no
longer than before, and a crowd makes one hop for each batch. A Batch does the same for an
asynchronous read (the cache's access versions over Redis: one MGET for many GETs).
"""

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Sequence

from channels.db import database_sync_to_async


class Batch:
    """`await batch(item)` is `(await function([item]))[0]`, awaited together with the items of
    every other call waiting then.

    `function(items)`, a coroutine function, takes a list of items and returns a sequence of as
    many results, in their order; it runs with an empty context (no caller's context variables:
    it must not depend on them). What it raises is raised to every caller of that batch; the
    next batch is made anew. For one event loop at a time (the one its calls run in); not
    thread-safe."""

    def __init__(self, function: Callable[[list], Awaitable[Sequence]], most: int = 200):
        self._function = function
        self.most = most  # items per batch at most (a statement's parameters, a batch's latency)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiting: list[tuple[object, asyncio.Future]] = []
        self._running = False

    async def __call__(self, item):
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new loop (tests make one each): the last one's batch is gone
            self._loop, self._waiting, self._running = loop, [], False
        future = loop.create_future()
        self._waiting.append((item, future))
        if not self._running:
            self._running = True
            # Started at the loop's next turn, so that the calls made in this one join it.
            loop.call_soon(self._start, context=contextvars.Context())
        return await future

    def _start(self) -> None:
        self._loop.create_task(self._run())

    async def _run(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[: self.most], self._waiting[self.most :]
                try:
                    results = await self._function([item for item, _future in batch])
                    if len(results) != len(batch):
                        raise ValueError(f"{len(batch)} items gave {len(results)} results")
                except Exception as error:  # every caller of the batch gets it
                    for _item, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    continue
                for (_item, future), result in zip(batch, results, strict=True):
                    if not future.done():  # (its caller cancelled)
                        future.set_result(result)
        finally:
            self._running = False


class ThreadBatch(Batch):
    """A Batch of a synchronous `function(items)` (a database read), run on the thread pool
    (Channels' database_sync_to_async: the thread's stale database connections closed around it)."""

    def __init__(self, function: Callable[[list], Sequence], most: int = 200):
        super().__init__(database_sync_to_async(function, thread_sensitive=False), most)
