"""A ThreadBatch runs the calls waiting together as one call on the thread pool, each caller
getting its own item's result (site_config.batches)."""

import asyncio
import contextvars
import threading

import pytest

from site_config.batches import Batch, ThreadBatch

marker = contextvars.ContextVar("marker", default="none")


class Recorded:
    """A batch function recording each batch it was given; results are the items doubled. Items
    named in `failing` make their batch raise; `hold` keeps the first batch running until set."""

    def __init__(self, failing=(), hold: threading.Event | None = None):
        self.batches, self.failing, self.hold, self.contexts = [], set(failing), hold, []

    def __call__(self, items: list) -> list:
        self.batches.append(list(items))
        self.contexts.append(marker.get())
        if self.hold is not None and len(self.batches) == 1:
            self.hold.wait(5)
        if self.failing & set(items):
            raise RuntimeError("refused")
        return [item * 2 for item in items]


async def test_calls_made_together_run_as_one_batch_each_caller_with_its_result():
    function = Recorded()
    batch = ThreadBatch(function)
    marker.set("a caller's")
    assert await asyncio.gather(*(batch(n) for n in range(5))) == [0, 2, 4, 6, 8]
    assert function.batches == [[0, 1, 2, 3, 4]]
    assert function.contexts == ["none"]  # no caller's context variables


async def test_calls_made_while_a_batch_runs_wait_for_it_and_then_go_together():
    hold = threading.Event()
    function = Recorded(hold=hold)
    batch = ThreadBatch(function)
    first = asyncio.ensure_future(batch(1))
    while not function.batches:  # the first batch is running, held
        await asyncio.sleep(0.001)
    later = [asyncio.ensure_future(batch(n)) for n in (2, 3, 4)]
    await asyncio.sleep(0.01)
    assert function.batches == [[1]]  # the others wait, rather than making a hop each
    hold.set()
    assert await first == 2 and await asyncio.gather(*later) == [4, 6, 8]
    assert function.batches == [[1], [2, 3, 4]]


async def test_a_batch_takes_at_most_its_limit():
    function = Recorded()
    batch = ThreadBatch(function, most=2)
    assert await asyncio.gather(*(batch(n) for n in range(5))) == [0, 2, 4, 6, 8]
    assert function.batches == [[0, 1], [2, 3], [4]]


async def test_an_error_reaches_every_caller_of_its_batch_and_the_next_batch_goes_on():
    batch = ThreadBatch(Recorded(failing={"bad"}))
    results = await asyncio.gather(batch("bad"), batch("ok"), return_exceptions=True)
    assert [type(result) for result in results] == [RuntimeError, RuntimeError]
    assert await batch("fine") == "finefine"


async def test_a_wrong_number_of_results_is_an_error_for_the_callers():
    batch = ThreadBatch(lambda items: items[:-1])
    with pytest.raises(ValueError, match="2 items gave 1 results"):
        await asyncio.gather(batch(1), batch(2))


def test_a_batch_left_unfinished_by_a_closed_loop_does_not_hold_the_next_loops_calls():
    """A loop closed (not run to its end) with a batch running and a call waiting: the next
    loop's calls are answered, not left behind a batch that will never finish."""

    async def doubled(items):
        if "hold" in items:
            await asyncio.sleep(3600)
        return [item * 2 for item in items]

    batch = Batch(doubled)
    old = asyncio.new_event_loop()

    async def leave_running():
        asyncio.ensure_future(batch("hold"))
        await asyncio.sleep(0.01)  # its batch started
        asyncio.ensure_future(batch(2))  # waiting behind it
        await asyncio.sleep(0)

    old.run_until_complete(leave_running())
    old.close()  # nothing cancelled: the batch stays "running" on a loop that is gone
    assert asyncio.run(asyncio.wait_for(batch(3), 5)) == 6
