"""Pushes rendered once per variant present, never once per reader: by the first socket of a
variant in each process (a memo), or by the sender for the variants a room's page has
(chat.variant_rooms)."""

import datetime
import json
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from accounts.models import Profile
from accounts.profiles import display_name_recent
from chat import fragments, variant_rooms, variants
from chat.heartbeat import heartbeat
from chat.messages import message_create
from chat.rooms import room_get_or_create
from chat.selectors import LogLine
from chat.tests.support import create_room, post_barrier
from chat.tests.test_variants import BOGOTA, as_the_page_shows_first, message_push, open_tab, person

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_in_memory_layer")]


@pytest.fixture(autouse=True)
def rooms_variants_of_this_test_only(monkeypatch):
    """Room variants noted by this test alone: its own cache keys, no renewal remembered."""
    prefix = uuid.uuid4().hex
    monkeypatch.setattr(variant_rooms, "_key", lambda room_id: f"test:{prefix}:{room_id}")
    variant_rooms._renewed.clear()
    variant_rooms._healed.clear()
    variant_rooms.breaker.reset()


@pytest.fixture
def renders(monkeypatch) -> list[int]:
    """One entry per message fragment rendered (fragments.messages_append) from now on."""
    counted: list[int] = []
    render = fragments.messages_append
    monkeypatch.setattr(fragments, "messages_append", lambda **kw: counted.append(1) or render(**kw))
    return counted


async def test_many_sockets_of_one_variant_cost_one_render_between_them(make_user, monkeypatch, renders):
    """Five readers in Bogotá and one with the site's variant, the sender not told of Bogotá: a
    message is rendered twice in all (the site's variant by its sender, Bogotá's once, by the
    first of its sockets) and the five Bogotá sockets get the same bytes."""
    monkeypatch.setattr(variant_rooms, "variant_rooms_enabled", lambda: False)
    ana = await person(make_user, "ana")
    bogotanos = [await person(make_user, f"b{n}", BOGOTA) for n in range(5)]
    room = await create_room("Lobby")
    sockets = [await open_tab(room, user) for user in [ana, *bogotanos]]
    renders.clear()

    await post_barrier(room, ana)
    pushes = [await message_push(socket) for socket in sockets]
    assert len(renders) == 2
    assert len(set(pushes[1:])) == 1 and pushes[0] != pushes[1]
    for socket in sockets:
        await socket.disconnect()


async def test_the_heartbeat_renders_once_per_variant_present(make_user, monkeypatch):
    """Two Bogotá sockets and one of the site's variant in a room: a beat renders the status
    twice, and the two Bogotá sockets get the same frame."""
    people = [await person(make_user, name, variant) for name, variant in (("a", None), ("b", BOGOTA), ("c", BOGOTA))]
    room = await create_room("Lobby")
    sockets = [await open_tab(room, user) for user in people]
    statuses = []
    status = fragments.status
    monkeypatch.setattr(fragments, "status", lambda *a, **kw: statuses.append(1) or status(*a, **kw))

    await heartbeat().beat()
    frames = [await socket.receive_from() for socket in sockets]
    assert len(statuses) == 2 and frames[1] == frames[2] and 'id="room-status"' in frames[1]
    for socket in sockets:
        await socket.disconnect()


async def test_the_sender_renders_each_variant_a_rooms_page_has_and_its_sockets_none(
    make_user, monkeypatch, renders, layer_events
):
    """With the room's variants shared (as with Redis), the sender renders the message in the
    site's variant and in Bogotá's; the Bogotá sockets send those bytes, rendering nothing."""
    monkeypatch.setattr(variant_rooms, "variant_rooms_enabled", lambda: True)
    ana, bea, cy = [
        await person(make_user, name, variant) for name, variant in (("ana", None), ("bea", BOGOTA), ("cy", BOGOTA))
    ]
    room = await create_room("Lobby")
    sockets = [await open_tab(room, user) for user in (ana, bea, cy)]
    for socket in sockets:  # each arrival's push of who is online taken first (over Redis it may come late)
        while '<li class="list-inline-item presence-user">cy</li>' not in await socket.receive_side(timeout=5):
            pass
    renders.clear()
    variants._memo.clear()

    await post_barrier(room, ana)
    pushes = [await message_push(socket) for socket in sockets]
    [event] = [event for _group, event in layer_events if event["type"] == "chat.message"]
    assert list(event["rendered"]) == ["es America/Bogota"] and len(renders) == 2 and not variants._memo
    assert (
        pushes[1] == pushes[2] == event["rendered"]["es America/Bogota"] == await as_the_page_shows_first(room, BOGOTA)
    )
    for socket in sockets:
        await socket.disconnect()


async def test_a_variant_whose_note_was_lost_is_noted_again_by_its_socket(
    make_user, monkeypatch, renders, layer_events
):
    """Bogotá's note lost (two notes at once, read and written back): the next message leaves
    Bogotá out, its socket renders it from the data and notes Bogotá again, and the message
    after is rendered by its sender for Bogotá too."""
    monkeypatch.setattr(variant_rooms, "variant_rooms_enabled", lambda: True)
    ana, bea = await person(make_user, "ana"), await person(make_user, "bea", BOGOTA)
    room = await create_room("Lobby")
    sockets = [await open_tab(room, user) for user in (ana, bea)]
    await variant_rooms.cache.adelete(variant_rooms._key(room.pk))  # the lost update

    for _ in range(2):
        await post_barrier(room, ana)
        await message_push(sockets[1])
        await sockets[1].settle()  # its handler, which notes the variant after sending, is done
    first, second = [event for _group, event in layer_events if event["type"] == "chat.message"]
    assert first["rendered"] == {} and list(second["rendered"]) == ["es America/Bogota"]
    for socket in sockets:
        await socket.disconnect()


@pytest.mark.parametrize("gap_minutes", [1, 60 * 24])  # grouped with the one before; a new day
def test_the_senders_render_from_the_message_in_hand_is_the_one_its_data_would_give(make_user, gap_minutes):
    """The sender renders the site's variant from the saved message (no rebuild, no query), in
    the site's zone whatever the sender has active; a socket rebuilding it from the push's
    data gets the same bytes."""
    Profile.objects.create(user=make_user("ana"), display_name="Ana <b>María</b>")
    ana = type(Profile.objects.get().user).objects.get(username="ana")  # as a socket holds it: no profile
    room = room_get_or_create(name="Lobby")[0]
    first = message_create(room=room, author=ana, body="before")
    second = message_create(room=room, author=ana, body="*after* @nobody")
    at = first.created_at - datetime.timedelta(minutes=gap_minutes)
    line = LogLine.after(second, author_id=ana.pk, at=at)
    name = display_name_recent(ana)
    with BOGOTA.active(), CaptureQueriesContext(connection) as queries:
        push = variants.message_push(line, name=name, present=None)
    data = json.loads(push["again"])["data"]
    with variants.default_variant().active():
        assert push["html"] == variants.RENDERERS["message"](data)
    assert "Ana &lt;b&gt;María&lt;/b&gt;" in push["html"] and "<em>after</em>" in push["html"]
    assert ("day-separator" in push["html"]) == (timezone.localdate(at) != second.day)
    assert [q["sql"] for q in queries.captured_queries] == []
    assert not ana.__class__.profile.related.is_cached(second.author)  # the sender's user untouched


def test_the_connection_status_is_rendered_once_per_language_and_state():
    with translation.override("en"):
        english = fragments.status("connected", composer=True)
        assert fragments.status("connected", composer=True) is english  # kept
        assert "Signed out" in fragments.status("ended") and "Connected" not in fragments.status("ended")
    with translation.override("es"):
        spanish = fragments.status("connected", composer=True)
    assert ">Connected<" in english and 'id="composer-pending"' in english
    assert ">Conectado<" in spanish and 'id="composer-pending"' in spanish
    assert 'id="composer-pending"' not in fragments.status("connected")
