"""Who is online in a room: pushed when people come and go, a user with several tabs counted
once, and an entry nobody renews (a crashed worker's) gone at the next heartbeat. Runs on the
in-memory store, and on Redis when REDIS_URL is set."""

import asyncio
import html
import re
import time

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from accounts.models import Profile
from chat.memberships import membership_join
from chat.presence import Present, presence_list, presence_touch
from chat.presence_pushes import PresencePushes
from chat.rooms import room_get_or_create
from chat.tests.support import join, open_socket, post_barrier, sync_frame

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_in_memory_layer")]


def online_in(fragment: str) -> list[str]:
    """The usernames a presence fragment shows, in order."""
    assert 'id="presence"' in fragment
    return re.findall(r'<li class="list-inline-item presence-user">([^<]+)</li>', fragment)


def marked_in(fragment: str) -> set[int]:
    """The user ids a presence fragment marks online in the members panel, having cleared every
    mark first (the clearing swap must come before the filling one)."""
    clear = fragment.index('<div hx-swap-oob="innerHTML:.members .member-online"></div>')
    filling = re.search(r'hx-swap-oob="innerHTML:#member-online-anchor([^"]*)"', fragment)
    if filling is None:
        return set()
    assert clear < filling.start() and "member-online-mark live" in fragment[filling.end() :]
    selectors = html.unescape(filling[1])  # as the browser reads the attribute
    return {int(user_id) for user_id in re.findall(r"\.member\[data-user='(\d+)'\] \.member-online", selectors)}


async def presence_of(socket, timeout: float = 1) -> str:
    """The next presence fragment `socket` receives (member list news, which a join brings too, passed over)."""
    while not (frame := await socket.receive_side(timeout)).startswith('<div id="presence"'):
        pass
    return frame


@pytest.fixture(autouse=True)
def presence_pushed_at_once(settings):
    """No throttle (unless a test sets one): the push a change causes is sent before the call
    that made the change returns, so a barrier sent after it comes after the push."""
    settings.CHAT_PRESENCE_PUSH_SECONDS = 0
    settings.CHAT_PRESENCE_PUSH_RATE = 1e12


@pytest.fixture
def lobby_and_people(make_user):
    @database_sync_to_async
    def make():
        return room_get_or_create(name="Lobby")[0], make_user("ana"), make_user("bea")

    return make


async def test_presence_counts_a_user_with_two_sockets_once(lobby_and_people):
    """Bea's second tab changes nothing for Ana; Bea goes offline when her last tab closes."""
    room, ana, bea = await lobby_and_people()
    anas = await join(room.slug, ana)
    assert online_in(await presence_of(anas)) == ["ana"]  # her own arrival's push reaches her page too
    bea_laptop = await join(room.slug, bea, client=Client())
    assert online_in(await presence_of(anas)) == ["ana", "bea"]

    bea_phone = await join(room.slug, bea, client=Client())
    assert await anas.frames_before(await post_barrier(room, ana), side=True) == []
    assert await presence_list(room_id=room.pk) == ([Present("ana", ana.pk), Present("bea", bea.pk)], 2)

    await bea_laptop.disconnect()
    assert await anas.frames_before(await post_barrier(room, ana), side=True) == []
    await bea_phone.disconnect()
    assert online_in(await presence_of(anas)) == ["ana"]
    await anas.disconnect()


async def test_connecting_socket_is_shown_who_is_online_itself_included_once(lobby_and_people):
    """A connecting socket is shown who is online, itself too, and each user once: by the push
    its arrival makes when that changed the list (rendered once for the whole room), else in its
    first frame."""
    room, ana, bea = await lobby_and_people()
    anas = await join(room.slug, ana, client=Client())
    anas_other_tab, connected = await open_socket(room.slug, ana, client=Client())

    first = await anas_other_tab.receive_from()  # ana was online already: no push, the list in its first frame

    assert connected and 'id="room-status"' in first
    assert online_in(first) == ["ana"]
    beas, connected = await open_socket(room.slug, bea)
    first = await beas.receive_from()
    assert connected and 'id="room-status"' in first and 'id="presence"' not in first
    while (shown := online_in(await presence_of(beas))) == ["ana"]:
        pass  # over Redis, the push of ana's arrival may reach bea's page after it joined
    assert shown == ["ana", "bea"]  # bea's arrival's push, hers too
    for socket in (anas, anas_other_tab, beas):
        await socket.disconnect()


async def test_presence_nobody_renews_expires_at_the_next_heartbeat(lobby_and_people, settings):
    """A socket whose worker died stops renewing its entry: once it expires, the others' next
    heartbeat (their sync) shows it gone, with no goodbye needed."""
    settings.CHAT_PRESENCE_TTL_SECONDS = 1
    room, ana, bea = await lobby_and_people()
    await presence_touch(room_id=room.pk, user=bea, channel_name="crashed-worker!socket")
    anas, _connected = await open_socket(room.slug, ana)
    assert 'id="room-status"' in await anas.receive_from()
    assert online_in(await presence_of(anas)) == ["ana", "bea"]  # ana's arrival changed the list: pushed
    await anas.send_to(text_data=sync_frame(0))
    await anas.settle()
    # Bea's entry is still fresh: the heartbeat changed nothing.
    assert await anas.frames_before(await post_barrier(room, ana), side=True) == []

    await asyncio.sleep(1.2)  # the entry's time to live passes, with no heartbeat from bea
    await anas.send_to(text_data=sync_frame(1))

    assert online_in(await presence_of(anas)) == ["ana"]
    await anas.disconnect()


async def test_a_herd_of_arrivals_is_pushed_in_a_few_fragments_not_one_each(make_user, settings):
    """Ten people arriving at once (a deploy reconnecting everyone): the first one's page gets
    the list at most once per throttle interval (per room) while they arrive, plus the first
    and a trailing push, not once per arrival; the last push lists all eleven."""
    settings.CHAT_PRESENCE_PUSH_SECONDS = 2
    room = (await database_sync_to_async(room_get_or_create)(name="Lobby"))[0]
    people = [await database_sync_to_async(make_user)(f"user{n:02}") for n in range(11)]
    first = await join(room.slug, people[0])
    started = time.monotonic()
    herd = [await join(room.slug, person, after=None) for person in people[1:]]
    arriving = time.monotonic() - started

    pushes, everyone = [], [person.username for person in people]
    while not pushes or pushes[-1] != everyone:
        pushes.append(online_in(await presence_of(first, timeout=5)))

    assert len(pushes) <= 2 + int(arriving / 2) < 10
    for socket in (first, *herd):
        await socket.disconnect()


async def test_presence_shows_display_names(lobby_and_people):
    """Bea, who calls herself "Beatriz <3", is listed by that name, escaped (the username stays her identity)."""
    room, ana, bea = await lobby_and_people()
    await database_sync_to_async(Profile.objects.create)(user=bea, display_name="Beatriz <3")
    anas = await join(room.slug, ana)
    assert online_in(await presence_of(anas)) == ["ana"]
    beas = await join(room.slug, bea)
    assert online_in(await presence_of(anas)) == ["ana", "Beatriz &lt;3"]
    await beas.disconnect()
    await anas.disconnect()


async def test_the_push_schedule_sends_at_once_then_once_for_all_the_changes_that_follow(settings):
    """Three changes in a row: the first is sent at once, the other two ride on one push later."""
    settings.CHAT_PRESENCE_PUSH_SECONDS = 0.2
    schedule, sent = PresencePushes(), []

    async def send(room) -> int:
        sent.append(room.pk)
        return 1

    room = type("Room", (), {"pk": 7})()
    for _ in range(3):
        await schedule.push(room, send)
    assert sent == [7]
    await schedule.waiting[7]
    assert sent == [7, 7]


async def test_the_members_panel_marks_who_is_online_and_unmarks_who_left(lobby_and_people, make_user):
    """Each presence push clears the members panel's online marks and marks those online; a
    member list pushed on a join keeps the marks of those online, and not of the newcomer
    without a socket."""
    room, ana, bea = await lobby_and_people()
    anas = await join(room.slug, ana)
    assert marked_in(await presence_of(anas)) == {ana.pk}
    beas = await join(room.slug, bea)
    assert marked_in(await presence_of(anas)) == {ana.pk, bea.pk}

    await beas.disconnect()
    assert marked_in(await presence_of(anas)) == {ana.pk}

    cy = await database_sync_to_async(make_user)("cy")
    await database_sync_to_async(membership_join)(room=room, user=cy)
    while not (members := await anas.receive_side()).startswith('<span id="members-count">'):
        pass
    marked = re.findall(r'data-user="(\d+)">\s*<span class="member-online">(<span class="member-online-mark)?', members)
    assert {int(user_id): bool(mark) for user_id, mark in marked} == {ana.pk: True, bea.pk: False, cy.pk: False}
    await anas.disconnect()


async def test_a_name_read_within_the_minute_is_taken_with_no_thread_hop(make_user, monkeypatch):
    """A socket's handshake keeps its user's display name (accounts.profiles.display_name_kept):
    its presence entries take it from there, on the event loop; the thread pool reads it only
    when it is not kept."""
    from accounts import profiles
    from chat import presence

    ana = await database_sync_to_async(make_user)("ana")
    await database_sync_to_async(Profile.objects.update_or_create)(user=ana, defaults={"display_name": "Ana P."})
    profiles.display_name_forget()
    hops = []
    hop = presence.database_sync_to_async

    def counted(function, **kwargs):
        hops.append(function.__name__)
        return hop(function, **kwargs)

    monkeypatch.setattr(presence, "database_sync_to_async", counted)
    first = await presence._present(ana)
    assert (first, first.name, hops) == (Present("ana", ana.pk), "Ana P.", ["display_name_recent"])
    present = await presence._present(ana)
    assert present.name == "Ana P." and hops == ["display_name_recent"]


def test_the_online_list_is_rendered_once_per_list_shown_and_language():
    """fragments.presence keeps what it rendered by language and list: the same list again
    renders nothing, and a renamed user, one more online or another language renders anew."""
    from django.utils import translation

    from chat import fragments

    fragments._presence_html.cache_clear()
    ana, bea = Present("ana", 1, "Ana"), Present("bea", 2, "")
    first = fragments.presence(shown=[ana, bea], total=2)
    assert fragments.presence(shown=[Present("ana", 1, "Ana"), bea], total=2) == first
    assert fragments._presence_html.cache_info().misses == 1
    assert "Ana María" in fragments.presence(shown=[Present("ana", 1, "Ana María"), bea], total=2)
    assert "1 more" in fragments.presence(shown=[ana, bea], total=3)
    with translation.override("es"):
        fragments.presence(shown=[ana, bea], total=2)
    assert fragments._presence_html.cache_info().misses == 4


async def test_touches_made_together_go_to_redis_in_one_pipeline(settings, monkeypatch):
    """A crowd arriving: their presence touches in one round trip (site_config.batches), each
    told whether its room's list changed."""
    from chat import presence

    if not settings.REDIS_URL:
        pytest.skip("set REDIS_URL")
    await presence.presence_reset()
    store = presence._store()
    pipelines = []
    real = store.client.pipeline
    monkeypatch.setattr(store.client, "pipeline", lambda **kwargs: pipelines.append(kwargs) or real(**kwargs))
    people = [Present(username=f"p{n}", user_id=900 + n, name=f"P{n}") for n in range(3)]

    came = await asyncio.gather(*(store.touch(1, person, f"socket.{n}", 30) for n, person in enumerate(people)))
    again = await store.touch(1, people[0], "socket.0", 30)

    assert came == [True, True, True] and again is False  # new arrivals change the list; a renewal does not
    assert len(pipelines) == 2
    assert (await store.online(1, 10))[1] == 3
    await presence.presence_reset()
