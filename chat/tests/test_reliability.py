"""Every message seen once, in stored order, whatever the socket or the layer does; bad input
answered and contained."""

import asyncio
import json
import re
import uuid

import pytest
from channels.db import database_sync_to_async
from django.db import OperationalError

from chat.composer import NOT_SAVED, TOO_FAST, TOO_LARGE
from chat.messages import STILL_SENDING
from chat.models import Message
from chat.ratelimits import message_rate_limits_reset
from chat.rooms import room_get_or_create
from chat.tests.support import join

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_in_memory_layer")]


@pytest.fixture(autouse=True)
async def generous_rate_limit(settings):
    """High limits, and no counts left from earlier runs (kept in Redis when REDIS_URL is set)."""
    settings.CHAT_MESSAGE_RATE_LIMITS = "1000/second"
    await message_rate_limits_reset()


@database_sync_to_async
def create_room(name="Lobby"):
    return room_get_or_create(name=name)[0]


def post(text: str, key: str | None = None) -> str:
    return json.dumps({"message": text, "key": key or str(uuid.uuid4()), "HEADERS": {}})


def sync(after: int) -> str:
    return json.dumps({"after": str(after), "HEADERS": {"HX-Trigger": "sync"}})


def seqs_in(frames: list[str]) -> list[int]:
    """The seqs of the messages in `frames`, in the order the reader's log would get them."""
    return [int(seq) for frame in frames for seq in re.findall(r'data-seq="(\d+)"', frame)]


async def frames_until(socket, last_seq: int, timeout: float = 3) -> list[str]:
    """Read frames until one holds the message with `last_seq` (or `timeout` passes).

    Polls with receive_nothing: a timed-out receive_from would cancel the consumer."""
    frames: list[str] = []
    deadline = asyncio.get_running_loop().time() + timeout
    while last_seq not in seqs_in(frames) and asyncio.get_running_loop().time() < deadline:
        if not await socket.receive_nothing(timeout=0.05):
            frames.append(await socket.receive_from())
    return frames


async def post_and_wait(socket, text: str, key: str | None = None) -> str:
    """Post `text` and return the sender's composer answer (skipping pushes)."""
    await socket.send_to(text_data=post(text, key))
    while 'id="message-form"' not in (frame := await socket.receive_from()):
        pass
    return frame


async def test_reconnecting_reader_gets_what_was_posted_meanwhile_once_in_order(make_user):
    """A reader that was away sends its cursor and gets exactly the missed messages, in order."""
    ana = await database_sync_to_async(make_user)("ana")
    bea = await database_sync_to_async(make_user)("bea")
    room = await create_room()
    writer = await join(room.slug, ana)
    await post_and_wait(writer, "before")
    reader = await join(room.slug, bea, after=1)
    assert await reader.receive_nothing(timeout=0.2)
    await reader.disconnect()

    for text in ["one", "two", "three"]:
        await post_and_wait(writer, text)
    reader = await join(room.slug, bea, after=1)

    frames = await frames_until(reader, 4)
    assert seqs_in(frames) == [2, 3, 4]
    assert frames[0].index(">one<") < frames[0].index(">two<") < frames[0].index(">three<")
    assert 'id="cursor" name="after" value="4"' in frames[-1]
    await writer.send_to(text_data=post("live again"))
    assert seqs_in(await frames_until(reader, 5)) == [5]
    await writer.disconnect()
    await reader.disconnect()


async def test_events_before_the_first_sync_are_not_lost(make_user):
    """Messages posted between the page's render and its socket's sync arrive with the sync."""
    ana = await database_sync_to_async(make_user)("ana")
    bea = await database_sync_to_async(make_user)("bea")
    room = await create_room()
    writer = await join(room.slug, ana)
    reader = await join(room.slug, bea, after=None)
    await post_and_wait(writer, "while you loaded")
    assert await reader.receive_nothing(timeout=0.2)

    await reader.send_to(text_data=sync(0))

    assert seqs_in(await frames_until(reader, 1)) == [1]
    await writer.disconnect()
    await reader.disconnect()


async def test_catch_up_longer_than_history_replaces_the_log(make_user, settings):
    """A reader too far behind gets the latest history as a whole new log, not a flood."""
    settings.CHAT_HISTORY_LIMIT = 3
    ana = await database_sync_to_async(make_user)("ana")
    bea = await database_sync_to_async(make_user)("bea")
    room = await create_room()
    writer = await join(room.slug, ana)
    for i in range(6):
        await post_and_wait(writer, f"m{i}")

    reader = await join(room.slug, bea, after=1)

    [frame] = await frames_until(reader, 6)
    assert seqs_in([frame]) == [4, 5, 6]
    assert '<div id="messages" class="log" role="log"' in frame
    assert "hx-swap-oob" not in frame
    await writer.disconnect()
    await reader.disconnect()


@pytest.mark.parametrize(
    ("layer", "live"),
    [("LossyLayer", [1, 2, 3, 4, 5, 6, 7]), ("ReorderingLayer", [1, 2, 3, 4, 5, 6, 7, 8])],
)
async def test_reader_ends_with_complete_ordered_log_when_the_layer_drops_or_reorders(make_user, settings, layer, live):
    """Lost or swapped events are repaired from the database as soon as a later one shows the
    gap: seqs once each, in order. A lost last event (the lossy layer's 8th) is repaired by the
    page's periodic sync."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": f"chat.tests.layers.{layer}"}}
    ana = await database_sync_to_async(make_user)("ana")
    bea = await database_sync_to_async(make_user)("bea")
    room = await create_room()
    writer = await join(room.slug, ana)
    reader = await join(room.slug, bea)

    for i in range(1, 9):
        await post_and_wait(writer, f"message {i}")
    frames = await frames_until(reader, 8, timeout=1)
    assert seqs_in(frames) == live
    await reader.send_to(text_data=sync(0))  # the page's periodic sync
    frames += await frames_until(reader, 8)

    assert seqs_in(frames) == [1, 2, 3, 4, 5, 6, 7, 8]
    await writer.disconnect()
    await reader.disconnect()


async def test_same_composer_sent_twice_is_stored_and_shown_once(make_user):
    """A double click or a resent queue carries the same key: one row, one push."""
    ana = await database_sync_to_async(make_user)("ana")
    bea = await database_sync_to_async(make_user)("bea")
    room = await create_room()
    writer = await join(room.slug, ana)
    reader = await join(room.slug, bea)
    key = str(uuid.uuid4())

    await writer.send_to(text_data=post("only once", key))
    await writer.send_to(text_data=post("only once", key))

    frames = await frames_until(reader, 1)
    assert await reader.receive_nothing(timeout=0.3)
    assert seqs_in(frames) == [1]
    assert await Message.objects.acount() == 1
    await writer.disconnect()
    await reader.disconnect()


async def test_second_message_from_a_composer_not_yet_reset_is_refused_not_lost(make_user):
    """Another text with the same key (sent before the first one's reset came back) is not a
    resend: the sender gets it back with an error and a new key; sent again, it is stored."""
    ana = await database_sync_to_async(make_user)("ana")
    room = await create_room()
    writer = await join(room.slug, ana)
    key = str(uuid.uuid4())
    await post_and_wait(writer, "first", key)

    answer = await post_and_wait(writer, "second", key)

    assert STILL_SENDING in answer and 'value="second"' in answer and key not in answer
    new_key = re.search(r'name="key" value="([0-9a-f-]+)"', answer).group(1)
    await post_and_wait(writer, "second", new_key)
    assert [m.body async for m in Message.objects.order_by("seq")] == ["first", "second"]
    await writer.disconnect()


async def test_sender_over_rate_limit_gets_an_error_and_others_are_unaffected(make_user, settings):
    """Over the burst limit: an error fragment, the text kept, nothing saved; others post."""
    settings.CHAT_MESSAGE_RATE_LIMITS = "2/minute;100/hour"
    ana = await database_sync_to_async(make_user)("ana")
    bea = await database_sync_to_async(make_user)("bea")
    room = await create_room()
    flooder = await join(room.slug, ana)
    other = await join(room.slug, bea)

    await post_and_wait(flooder, "one")
    await post_and_wait(flooder, "two")
    refused = await post_and_wait(flooder, "three")
    answer = await post_and_wait(other, "I can still talk")

    assert TOO_FAST in refused and 'value="three"' in refused
    assert "invalid" not in answer
    bodies = [body async for body in Message.objects.order_by("seq").values_list("body", flat=True)]
    assert bodies == ["one", "two", "I can still talk"]
    await flooder.disconnect()
    await other.disconnect()


async def test_oversized_frame_is_refused_with_an_error_and_the_socket_stays(make_user):
    """A megabyte frame: an error for the sender, nothing saved, the socket still works."""
    ana = await database_sync_to_async(make_user)("ana")
    room = await create_room()
    socket = await join(room.slug, ana)

    await socket.send_to(text_data=post("x" * 1_000_000))
    refused = await socket.receive_from()
    answer = await post_and_wait(socket, "small enough")

    assert TOO_LARGE in refused and 'role="alert"' in refused
    assert "invalid" not in answer
    assert [m async for m in Message.objects.values_list("body", flat=True)] == ["small enough"]
    await socket.disconnect()


async def test_failed_save_answers_the_sender_and_broadcasts_nothing(make_user, monkeypatch):
    """The database fails: the sender sees an error with the text kept; nobody gets a push;
    the socket keeps serving once the database is back."""
    ana = await database_sync_to_async(make_user)("ana")
    bea = await database_sync_to_async(make_user)("bea")
    room = await create_room()
    writer = await join(room.slug, ana)
    reader = await join(room.slug, bea)

    def database_down(**kwargs):
        raise OperationalError("could not connect to server")

    with monkeypatch.context() as patch:
        patch.setattr("chat.composer.save_message", database_sync_to_async(database_down))
        refused = await post_and_wait(writer, "lost?")
    assert NOT_SAVED in refused and 'value="lost?"' in refused
    assert await reader.receive_nothing(timeout=0.3)

    await post_and_wait(writer, "back")
    assert seqs_in(await frames_until(reader, 1)) == [1]
    await writer.disconnect()
    await reader.disconnect()
