import asyncio

from site_config.layers import InMemoryChannelLayer, event_copy


async def test_expired_messages_are_still_swept_but_at_most_once_per_interval():
    """An expired message outlives operations within the interval, and is swept after it.
    (In Channels' layer, receive and group_send sweep; send does not.)"""
    layer = InMemoryChannelLayer(expiry=0.05, clean_interval=0.2)
    await layer.group_add("room.a", "reader")
    await layer.send("reader", {"type": "chat.message"})
    await layer.group_send("room.b", {"type": "chat.message"})  # t=0: sweeps; next from t=0.2
    await asyncio.sleep(0.1)  # the reader's message has expired (0.05 s)
    await layer.group_send("room.b", {"type": "chat.message"})  # t=0.1: within the interval
    assert "reader" in layer.channels
    await asyncio.sleep(0.15)
    await layer.group_send("room.b", {"type": "chat.message"})  # t=0.25: swept
    assert "reader" not in layer.channels
    assert "reader" not in layer.groups.get("room.a", {})


async def test_a_hub_channel_holds_more_than_the_default_capacity():
    """channel_capacity works ({glob: capacity}, as configured for chat.hub's channels), where
    Channels' own in-memory layer raises on it; other channels keep the default."""
    layer = InMemoryChannelLayer(capacity=2, channel_capacity={"hub.*": 5})
    hub_channel, other = await layer.new_channel("hub."), await layer.new_channel()
    for _ in range(5):
        await layer.send(hub_channel, {"type": "chat.message"})
    assert layer.get_capacity(hub_channel) == 5 and layer.get_capacity(other) == 2


async def test_each_member_receives_its_own_copy_in_order_and_a_full_one_is_skipped():
    """group_send without a task per member: each channel gets the events in the order sent,
    each an independent copy (a nested list changed by the sender or another receiver is not
    its), and a member at capacity misses the event while the others get it."""
    layer = InMemoryChannelLayer(capacity=1)
    first, second = await layer.new_channel("hub."), await layer.new_channel("hub.")
    await layer.group_add("room.a", first)
    await layer.group_add("room.a", second)
    event = {"type": "chat.message", "seq": 1, "mentions": [7], "rendered": {"en UTC": "<p>hi</p>"}}
    await layer.group_send("room.a", event)
    event["mentions"].append(8)  # the sender's object, changed after the send
    got = await layer.receive(first)
    assert got == {"type": "chat.message", "seq": 1, "mentions": [7], "rendered": {"en UTC": "<p>hi</p>"}}
    got["rendered"]["es UTC"] = "<p>hola</p>"  # one receiver's copy, changed
    await layer.group_send("room.a", {"type": "chat.message", "seq": 2})  # second is full (capacity 1)
    assert (await layer.receive(second))["rendered"] == {"en UTC": "<p>hi</p>"}
    assert (await layer.receive(first))["seq"] == 2
    assert second not in layer.channels  # the second event skipped: nothing waits for it


def test_event_copy_copies_what_deepcopy_copies():
    """event_copy equals deepcopy's result for events, copies containers, and hands anything
    else (a tuple of lists, an object) to deepcopy."""
    value = {"a": [1, {"b": None}], "c": 1.5, "d": b"x", "e": ([1],), "f": True}
    copied = event_copy(value)
    assert copied == value
    assert copied["a"] is not value["a"] and copied["a"][1] is not value["a"][1]
    assert copied["e"][0] is not value["e"][0]  # deepcopy's own copy of the tuple's list
