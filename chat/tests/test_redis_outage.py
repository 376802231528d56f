"""A channel layer, presence store, rate limiter or cache that is away (Redis restarting) costs
live delivery for a while, never a message and never a socket."""

import json
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError

from chat import broadcasts, presence, ratelimits
from chat.models import Message
from chat.rooms import room_get_or_create
from chat.shared_cache import shared_cache
from chat.tests.support import join, open_socket, post_frame, sync_frame

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_in_memory_layer")]


class OutageLayer(InMemoryChannelLayer):
    """The in-memory layer, but while `OutageLayer.down` every group operation raises as
    channels-redis does when Redis is away."""

    down = False

    async def group_send(self, group, message):
        self._fail()
        await super().group_send(group, message)

    async def group_add(self, group, channel):
        self._fail()
        await super().group_add(group, channel)

    async def group_discard(self, group, channel):
        self._fail()
        await super().group_discard(group, channel)

    def _fail(self):
        if OutageLayer.down:
            raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


@pytest.fixture
def outage_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "chat.tests.test_redis_outage.OutageLayer"}}
    OutageLayer.down = False
    yield OutageLayer
    OutageLayer.down = False


async def until(socket, text: str, limit: int = 6) -> str:
    """Frames read until one holds `text` (at most `limit` frames), joined."""
    frames = []
    while not any(text in frame for frame in frames) and len(frames) < limit:
        frames.append(await socket.receive_from())
    return "".join(frames)


async def test_messages_sent_while_the_layer_is_away_are_stored_and_reach_others_at_their_sync(make_user, outage_layer):
    """Posting, typing and leaving while every group operation fails: the sender gets its
    composer back, nothing is lost, and the other reader gets the messages at its next sync."""
    ana, bea = await database_sync_to_async(make_user)("ana"), await database_sync_to_async(make_user)("bea")
    await database_sync_to_async(room_get_or_create)(name="Lobby")
    beas, anas = await join("lobby", bea), await join("lobby", ana)

    outage_layer.down = True
    await anas.send_to(text_data=json.dumps({"typing": True}))
    for text in ("one", "two", "three"):
        await anas.send_to(text_data=post_frame(text))
        composer = await anas.receive_from()
        assert 'id="id_key"' in composer and "failed-" not in composer
    assert await Message.objects.acount() == 3
    outage_layer.down = False
    broadcasts.layer_breaker.reset()

    await beas.send_to(text_data=sync_frame(0))
    caught_up = await until(beas, "three")
    assert caught_up.index("one") < caught_up.index("two") < caught_up.index("three")
    await anas.disconnect()
    await beas.disconnect()


async def test_a_socket_opened_while_the_layer_is_away_joins_its_groups_at_its_next_sync(make_user, outage_layer):
    ana, bea = await database_sync_to_async(make_user)("ana"), await database_sync_to_async(make_user)("bea")
    await database_sync_to_async(room_get_or_create)(name="Lobby")
    outage_layer.down = True
    beas = await join("lobby", bea, after=None)  # connected, but in no group
    outage_layer.down = False
    broadcasts.layer_breaker.reset()  # as if its cool-down had passed
    await beas.send_to(text_data=sync_frame(0))  # joins its groups again
    anas = await join("lobby", ana)
    await anas.send_to(text_data=post_frame("live again"))
    assert "live again" in await until(beas, "live again")
    await anas.disconnect()
    await beas.disconnect()


async def test_presence_store_away_shows_presence_unknown_and_keeps_the_socket(make_user, monkeypatch):
    ana = await database_sync_to_async(make_user)("ana")
    await database_sync_to_async(room_get_or_create)(name="Lobby")

    class AwayStore:
        async def touch(self, *args):
            raise RedisConnectionError("away")

        remove = online = touch

    monkeypatch.setattr(presence, "_store", lambda: AwayStore())
    anas, connected = await open_socket("lobby", ana)
    first = await anas.receive_from()
    assert connected and "Connected" in first and "Who is online is unknown right now." in first
    await anas.send_to(text_data=sync_frame(0))
    await anas.send_to(text_data=post_frame("hello"))
    assert "hello" in await until(anas, "hello")
    await anas.disconnect()


async def test_rate_limits_fail_open_to_this_process_when_their_store_is_away(monkeypatch, settings):
    settings.CHAT_MESSAGE_RATE_LIMITS = "2/minute"
    await ratelimits.message_rate_limits_reset()

    class AwayLimiter:
        async def test(self, *args):
            raise RedisConnectionError("away")

        hit = test

    monkeypatch.setattr(ratelimits, "_limiter", lambda: (AwayLimiter(), ratelimits.parse_many("2/minute")))
    allowed = []
    for _ in range(3):
        allowed.append(await ratelimits.message_rate_allowed(4242))
        await ratelimits.message_rate_count(4242)
    assert allowed == [True, True, False]


async def test_the_access_gate_checks_fully_while_its_cache_is_away(make_user, monkeypatch):
    ana = await database_sync_to_async(make_user)("ana")
    await database_sync_to_async(room_get_or_create)(name="Lobby")
    anas = await join("lobby", ana)

    async def away(*args, **kwargs):
        raise RedisConnectionError("away")

    monkeypatch.setattr(shared_cache(), "aget", away)
    monkeypatch.setattr(shared_cache(), "aget_many", away)  # the Redis backend's reads go together
    from django.contrib.sessions.models import Session

    # Expired by an update, which sends no signal: no access version changes, so only the cache's
    # absence makes the next frame check fully, and find it.
    await Session.objects.all().aupdate(expire_date=timezone.now() - timedelta(seconds=1))
    await anas.send_to(text_data=sync_frame(0))
    output = await anas.receive_output(2)
    while output["type"] != "websocket.close":
        output = await anas.receive_output(2)
    assert output["code"] == 4001
