"""Every message seen once, in stored order, whatever the socket or the layer does; bad input
answered and contained."""

import json
import re
import uuid

import pytest
from channels.db import database_sync_to_async
from django.db import OperationalError

from chat.composer import NOT_SAVED, TOO_FAST, TOO_LARGE
from chat.models import Message
from chat.ratelimits import message_rate_limits_reset
from chat.tests.support import join, post_frame, sync_frame

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_in_memory_layer")]


@pytest.fixture(autouse=True)
async def generous_rate_limit(settings):
    """High limits, and no counts left from earlier runs (kept in Redis when REDIS_URL is set)."""
    settings.CHAT_MESSAGE_RATE_LIMITS = "1000/second"
    await message_rate_limits_reset()


def seqs_in(frames: list[str]) -> list[int]:
    """The seqs of the messages in `frames`, in the order the reader's log would get them."""
    return [int(seq) for frame in frames for seq in re.findall(r'data-seq="(\d+)"', frame)]


async def frames_until(socket, last_seq: int, timeout: float = 3) -> list[str]:
    """Read frames until one holds the message with `last_seq`, each within `timeout` seconds."""
    frames: list[str] = []
    while last_seq not in seqs_in(frames):
        frames.append(await socket.receive_from(timeout))
    return frames


async def post_and_wait(socket, text: str, key: str | None = None) -> str:
    """Post `text` and return the sender's composer answer (skipping pushes)."""
    await socket.send_to(text_data=post_frame(text, key))
    while 'id="id_key"' not in (frame := await socket.receive_from()) and "failed-" not in frame:
        pass
    return frame


async def test_reconnecting_reader_gets_what_was_posted_meanwhile_once_in_order(lobby_sockets, make_user):
    """A reader that was away sends its cursor and gets exactly the missed messages, in order;
    a reader with everything gets nothing again."""
    room, (writer,) = await lobby_sockets("ana")
    bea = await database_sync_to_async(make_user)("bea")
    await post_and_wait(writer, "before")
    reader = await join(room.slug, bea, after=1)
    await post_and_wait(writer, "one")
    assert seqs_in([await reader.receive_from()]) == [2]  # the first frame: nothing sent again
    await reader.disconnect()

    for text in ["two", "three", "four"]:
        await post_and_wait(writer, text)
    reader = await join(room.slug, bea, after=2)

    frames = await frames_until(reader, 5)
    assert seqs_in(frames) == [3, 4, 5]
    assert frames[0].index(">two<") < frames[0].index(">three<") < frames[0].index(">four<")
    assert 'id="cursor" name="after" value="5"' in frames[-1]
    await writer.send_to(text_data=post_frame("live again"))
    assert seqs_in(await frames_until(reader, 6)) == [6]
    await reader.disconnect()


async def test_events_before_the_first_sync_are_not_lost(lobby_sockets, make_user, settings):
    """Messages posted between the page's render and its socket's sync arrive with the sync,
    once: none is pushed before it."""
    settings.CHAT_PRESENCE_PUSH_SECONDS = 0  # Cy's arrival, the barrier, is pushed at once
    room, (writer,) = await lobby_sockets("ana")
    bea, cy = [await database_sync_to_async(make_user)(name) for name in ("bea", "cy")]
    reader = await join(room.slug, bea, after=None)
    await post_and_wait(writer, "while you loaded")
    # Presence news reaches a page before its sync: Cy's arrival is the barrier.
    cy_socket = await join(room.slug, cy)
    assert await reader.frames_before('presence-user">cy<') == []

    await reader.send_to(text_data=sync_frame(0))
    assert seqs_in(await frames_until(reader, 1)) == [1]
    await post_and_wait(writer, "after the sync")
    assert seqs_in(await frames_until(reader, 2)) == [2]
    await reader.disconnect()
    await cy_socket.disconnect()


async def test_catch_up_longer_than_history_replaces_the_log(lobby_sockets, make_user, settings):
    """A reader too far behind gets the latest history as a whole new log, not a flood."""
    settings.CHAT_HISTORY_LIMIT = 3
    room, (writer,) = await lobby_sockets("ana")
    for i in range(6):
        await post_and_wait(writer, f"m{i}")

    reader = await join(room.slug, await database_sync_to_async(make_user)("bea"), after=1)

    [frame] = await frames_until(reader, 6)
    assert seqs_in([frame]) == [4, 5, 6]
    assert '<div id="messages" class="log" role="log"' in frame
    assert "hx-swap-oob" not in frame
    await reader.disconnect()


@pytest.mark.parametrize(
    ("layer", "live", "shown_after"),
    [("LossyLayer", [1, 2, 3, 4, 5, 6, 7], 1), ("ReorderingLayer", [1, 2, 3, 4, 5, 6, 7, 8], 0)],
)
async def test_reader_ends_with_complete_ordered_log_when_the_layer_drops_or_reorders(
    lobby_sockets, settings, layer, live, shown_after
):
    """Lost or swapped events are repaired from the database as soon as a later one shows the
    gap: seqs once each, in order. A lost last event (the lossy layer's 8th) is repaired by the
    page's periodic sync. (The next message is posted once the reader has what the layer let
    through, the odd ones' events or the even ones': a catch-up read later would have it too.)"""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": f"chat.tests.layers.{layer}"}}
    _room, (writer, reader) = await lobby_sockets("ana", "bea")

    frames = []
    for i in range(1, 9):
        await post_and_wait(writer, f"message {i}")
        if i % 2 == shown_after:
            frames += await frames_until(reader, i)
    await writer.send_to(text_data=post_frame("typing after the 8th", typing=True))  # the barrier
    frames += await reader.frames_before("ana is typing")
    assert seqs_in(frames) == live
    await reader.send_to(text_data=sync_frame(0))  # the page's periodic sync
    frames += await reader.frames_so_far()

    assert seqs_in(frames) == [1, 2, 3, 4, 5, 6, 7, 8]


async def test_same_composer_sent_twice_is_stored_and_shown_once(lobby_sockets):
    """A double click or a resent queue carries the same key: one row, one push."""
    _room, (writer, reader) = await lobby_sockets("ana", "bea")
    key = str(uuid.uuid4())

    await writer.send_to(text_data=post_frame("only once", key))
    await writer.send_to(text_data=post_frame("only once", key))
    await writer.send_to(text_data=post_frame("and then this"))

    frames = await frames_until(reader, 2)
    assert seqs_in(frames) == [1, 2] and ">only once<" in frames[0]
    assert [m.body async for m in Message.objects.order_by("seq")] == ["only once", "and then this"]


async def test_second_message_sent_before_the_fresh_key_came_back_is_stored_not_lost(lobby_sockets):
    """Another text under the same composer key (typed and sent within the first one's round
    trip) is a message of its own, not a resend; the first sent again is still one message."""
    _room, (writer,) = await lobby_sockets("ana")
    key = str(uuid.uuid4())
    await post_and_wait(writer, "first", key)

    answer = await post_and_wait(writer, "second", key)
    await post_and_wait(writer, "first", key)

    assert 'id="id_key"' in answer and "failed-" not in answer
    assert [m.body async for m in Message.objects.order_by("seq")] == ["first", "second"]


async def test_a_refused_message_tried_again_is_stored_once_and_its_card_goes(lobby_sockets, settings):
    """Over the limit, the message comes back as a card under its key; "Try again" too soon
    replaces that card; later it stores the text once (a second try is a resend) and deletes
    the card; "Discard" deletes a card."""
    settings.CHAT_MESSAGE_RATE_LIMITS = "1/minute;100/hour"
    _room, (ana,) = await lobby_sockets("ana")
    await post_and_wait(ana, "one")
    key = str(uuid.uuid4())
    retry = json.dumps({"message": "two", "key": key, "retry": "1"})

    refused = await post_and_wait(ana, "two", key)
    assert refused.startswith('<div id="composer-failed" hx-swap-oob="beforeend">') and str(TOO_FAST) in refused
    assert f'<form id="failed-{key}"' in refused and 'name="message" value="two"' in refused
    await ana.send_to(text_data=retry)
    while f"failed-{key}" not in (again := await ana.receive_from(timeout=5)):
        pass  # the push of "one" may come after its composer's answer
    assert again.startswith(f'<form id="failed-{key}"') and str(TOO_FAST) in again and 'id="id_key"' not in again

    settings.CHAT_MESSAGE_RATE_LIMITS = "100/minute;100/hour"
    for _ in range(2):
        await ana.send_to(text_data=retry)
        answer = await ana.frames_before(f'<div id="failed-{key}" hx-swap-oob="delete"></div>', timeout=5)
        assert all("failed-" not in frame for frame in answer)
    await ana.send_to(text_data=json.dumps({"discard": "1", "key": key}))
    await ana.frames_before(f'<div id="failed-{key}" hx-swap-oob="delete"></div>', timeout=5)  # the push may be late
    assert [m.body async for m in Message.objects.order_by("seq")] == ["one", "two"]


async def test_sender_over_rate_limit_gets_an_error_and_others_are_unaffected(lobby_sockets, settings):
    """Over the burst limit: an error fragment, the text kept, nothing saved; others post."""
    settings.CHAT_MESSAGE_RATE_LIMITS = "2/minute;100/hour"
    _room, (flooder, other) = await lobby_sockets("ana", "bea")

    await post_and_wait(flooder, "one")
    await post_and_wait(flooder, "two")
    refused = await post_and_wait(flooder, "three")
    answer = await post_and_wait(other, "I can still talk")

    assert str(TOO_FAST) in refused and 'value="three"' in refused
    assert "invalid" not in answer
    bodies = [body async for body in Message.objects.order_by("seq").values_list("body", flat=True)]
    assert bodies == ["one", "two", "I can still talk"]


async def test_oversized_frame_is_refused_with_an_error_and_the_socket_stays(lobby_sockets):
    """A megabyte frame: an error for the sender, nothing saved, the socket still works."""
    _room, (socket,) = await lobby_sockets("ana")

    await socket.send_to(text_data=post_frame("x" * 1_000_000))
    refused = await socket.receive_from()
    answer = await post_and_wait(socket, "small enough")

    assert str(TOO_LARGE) in refused and 'role="alert"' in refused
    assert "invalid" not in answer
    assert [m async for m in Message.objects.values_list("body", flat=True)] == ["small enough"]


async def test_failed_save_answers_the_sender_and_broadcasts_nothing(lobby_sockets, monkeypatch):
    """The database fails: the sender sees an error with the text kept; nobody gets a push (the
    reader's first frame is the next message's); the socket serves once the database is back."""
    _room, (writer, reader) = await lobby_sockets("ana", "bea")

    def database_down(**kwargs):
        raise OperationalError("could not connect to server")

    with monkeypatch.context() as patch:
        patch.setattr("chat.composer.message_create_async", database_sync_to_async(database_down))
        refused = await post_and_wait(writer, "lost?")
    assert str(NOT_SAVED) in refused and 'value="lost?"' in refused

    await post_and_wait(writer, "back")
    [frame] = await frames_until(reader, 1)
    assert ">back<" in frame
