"""A cancelled task ends: a socket's task cancelled (the server shutting down, its client gone)
must not carry on because the layer call it was awaiting finished in the same turn of the loop.
Python 3.11's asyncio.wait_for returns the result then, swallowing the cancellation
(https://github.com/python/cpython/issues/86296); asyncio.timeout does not."""

import asyncio

import pytest

from chat import broadcasts


class QuickLayer:
    """A channel layer whose calls finish after `turns` turns of the loop (the in-memory
    layer's at their first step: 0)."""

    turns = 0

    async def group_add(self, group: str, channel: str) -> None:
        for _ in range(self.turns):
            await asyncio.sleep(0)


@pytest.mark.parametrize("turns", [0, 1])
async def test_a_task_cancelled_while_its_layer_call_finishes_ends_cancelled(monkeypatch, turns):
    """The task is cancelled in the turn its layer call completes: it ends cancelled, and does
    not go on to wait on whatever it awaits next (a socket's receive loop: forever)."""
    monkeypatch.setattr(QuickLayer, "turns", turns)
    monkeypatch.setattr(broadcasts, "get_channel_layer", QuickLayer)

    async def socket_task():
        await broadcasts.group_add("room.1", "specific.one")
        await asyncio.sleep(3600)  # a socket's next wait: its receive loop

    task = asyncio.create_task(socket_task())
    await asyncio.sleep(0)  # the task is now awaiting its layer call
    task.cancel()
    await asyncio.wait([task], timeout=1)
    assert task.done() and task.cancelled()
