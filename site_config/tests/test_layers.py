import asyncio

from site_config.layers import InMemoryChannelLayer


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
