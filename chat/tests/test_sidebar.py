"""The sidebar: the reader's rooms and direct conversations with live unread counts, pushed on
the reader's own socket, costing no query per recipient per message."""

import re

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from chat.memberships import membership_invite, membership_join
from chat.messages import message_create
from chat.models import Membership, Room
from chat.rooms import room_create_private, room_get_or_create
from chat.sidebar import Sidebar, SidebarEntry, sidebar_entries, sidebars_entries
from chat.tests.support import open_socket

pytestmark = pytest.mark.django_db(transaction=True)


def unread_badge(fragment: str, room) -> str | None:
    """The unread count `fragment` shows on `room`'s sidebar entry ("2"), or None."""
    entry = re.search(rf'<li id="sidebar-room-{room.pk}">(.*?)</li>', fragment, re.S)
    assert entry, fragment
    badge = re.search(r'aria-label="(\d+) unread"', entry.group(1))
    return badge and badge.group(1)


@pytest.fixture
def two_rooms(make_user):
    """Ana and Bea, both members of Lobby and Random."""

    @database_sync_to_async
    def make():
        ana, bea = make_user("ana"), make_user("bea")
        lobby, random = room_get_or_create(name="Lobby")[0], room_get_or_create(name="Random")[0]
        for room in (lobby, random):
            for user in (ana, bea):
                membership_join(room=room, user=user)
        return ana, bea, lobby, random

    return make


@pytest.mark.usefixtures("fresh_in_memory_layer")
async def test_message_elsewhere_moves_its_unread_count_and_reading_it_clears_it(two_rooms):
    """Ana, on the index, sees Random's count go to 1 then 2 as Bea posts there, and go when
    she opens Random in another tab."""
    ana, bea, lobby, random = await two_rooms()
    anas, connected = await open_socket(None, ana)
    first = await anas.receive_side()
    assert connected and unread_badge(first, lobby) is None and unread_badge(first, random) is None

    await database_sync_to_async(message_create)(room=random, author=bea, body="one")
    assert unread_badge(await anas.receive_side(), random) == "1"
    await database_sync_to_async(message_create)(room=random, author=bea, body="two")
    entry = await anas.receive_side()
    assert unread_badge(entry, random) == "2" and 'class="sidebar-room unread"' in entry

    other_tab = Client()
    await database_sync_to_async(other_tab.force_login)(ana)
    await database_sync_to_async(other_tab.get)("/chat/random/")
    assert unread_badge(await anas.receive_side(), random) is None
    await anas.disconnect()


@pytest.mark.usefixtures("fresh_in_memory_layer")
async def test_own_messages_do_not_count_as_unread(two_rooms):
    """Ana posting in Random (from another device) changes nothing in her sidebar: the next
    news is of Bea's message in Lobby, after it."""
    ana, bea, lobby, random = await two_rooms()
    anas, _connected = await open_socket(None, ana)
    await anas.receive_side()

    await database_sync_to_async(message_create)(room=random, author=ana, body="mine")

    assert {entry.room.slug: entry.unread for entry in await database_sync_to_async(sidebar_entries)(ana)} == {
        "lobby": 0,
        "random": 0,
    }
    await database_sync_to_async(message_create)(room=lobby, author=bea, body="the barrier")
    assert await anas.frames_before(f'<li id="sidebar-room-{lobby.pk}">', side=True) == []
    await anas.disconnect()


@pytest.mark.usefixtures("fresh_in_memory_layer")
async def test_an_invitation_adds_the_room_to_the_invitees_open_sidebar_live(two_rooms):
    """Bea invites Ana to a private room: Ana's open sidebar shows it, then counts its messages."""
    ana, bea, _lobby, _random = await two_rooms()
    anas, _connected = await open_socket(None, ana)
    assert "Plans" not in await anas.receive_side()
    plans = await database_sync_to_async(room_create_private)(name="Plans", creator=bea)

    await database_sync_to_async(membership_invite)(room=plans, inviter=bea, username="ana")

    assert "Plans" in await anas.receive_side()
    await database_sync_to_async(message_create)(room=plans, author=bea, body="welcome")
    assert unread_badge(await anas.receive_side(), plans) == "1"
    await anas.disconnect()


@pytest.mark.usefixtures("fresh_in_memory_layer")
async def test_the_room_page_highlights_its_room_and_shows_no_count_for_it(two_rooms):
    """On Lobby's page, Lobby is the current entry; messages there go to the log, not to a badge."""
    ana, bea, lobby, random = await two_rooms()
    anas, _connected = await open_socket(lobby.slug, ana)
    first = await anas.receive_from()
    assert re.search(rf'<li id="sidebar-room-{lobby.pk}">\s*<a [^>]*active[^>]*aria-current="page"', first)

    await database_sync_to_async(message_create)(room=lobby, author=bea, body="hello")

    await database_sync_to_async(message_create)(room=random, author=bea, body="the barrier")
    frames = await anas.frames_before(f'<li id="sidebar-room-{random.pk}">', side=True)
    # No badge for the room being read; and Ana has not synced yet: the message reaches her log
    # with her sync (presence news may come and go meanwhile).
    assert not [frame for frame in frames if f"sidebar-room-{lobby.pk}" in frame or "hello" in frame]
    await anas.disconnect()


def test_posting_costs_the_same_queries_however_many_members_the_room_has(make_user):
    """Unread counts are computed on read: a message to 2 members or to 30 is the same work."""

    def queries_to_post(room, author) -> int:
        with CaptureQueriesContext(connection) as queries:
            message_create(room=room, author=author, body="hi")
        return len(queries)

    ana = make_user("ana")
    small, big = room_get_or_create(name="Small")[0], room_get_or_create(name="Big")[0]
    membership_join(room=small, user=ana)
    membership_join(room=big, user=ana)
    Membership.objects.bulk_create(Membership(room=big, user=make_user(f"user{n}")) for n in range(30))

    queries_to_post(small, ana)  # the first reads Ana's display name (kept a minute: display_name_recent)
    assert queries_to_post(small, ana) == queries_to_post(big, ana)


def test_sidebar_reads_rooms_and_conversations_in_two_queries(make_user, django_assert_num_queries):
    """However many rooms and direct conversations: one query for them (with whether each has
    unread mentions), one for the titles; a third, for the mentions' seqs (the mention badges),
    only when some room has any."""
    from chat.rooms import room_get_or_create_direct

    ana, _bea, cy = make_user("ana"), make_user("bea"), make_user("cy")
    for name in ("Lobby", "Random", "Kitchen"):
        membership_join(room=room_get_or_create(name=name)[0], user=ana)
    room_get_or_create_direct(starter=ana, usernames=["bea"])
    room_get_or_create_direct(starter=cy, usernames=["ana", "bea"])

    with django_assert_num_queries(2):
        rooms = sidebar_entries(ana)

    assert [entry.title for entry in rooms] == ["Kitchen", "Lobby", "Random", "bea", "bea, cy"]
    assert all(entry.mentions == 0 for entry in rooms)
    kitchen = rooms[0].room
    membership_join(room=kitchen, user=cy)
    message_create(room=kitchen, author=cy, body="@ana look")
    with django_assert_num_queries(3):
        rooms = sidebar_entries(ana)
    assert [entry.mentions for entry in rooms] == [1, 0, 0, 0, 0]


def test_sidebars_of_several_readers_come_from_one_query_each_with_instances_of_its_own(
    make_user, django_assert_num_queries
):
    """sidebars_entries (a crowd's sockets reading theirs together): one query for all, each reader's
    entries as sidebar_entries gives them, a reader twice getting rooms of their own (a socket changes its room)."""
    ana, bea, cy = make_user("ana"), make_user("bea"), make_user("cy")
    lobby, kitchen = room_get_or_create(name="Lobby")[0], room_get_or_create(name="Kitchen")[0]
    for user in (ana, bea):
        membership_join(room=lobby, user=user)
    membership_join(room=kitchen, user=ana)

    with django_assert_num_queries(1):
        sidebars = sidebars_entries([ana, bea, cy, ana])

    def shown(entries):
        return [(entry.title, entry.unread, entry.room.pk) for entry in entries]

    assert [shown(entries) for entries in sidebars] == [shown(sidebar_entries(user)) for user in (ana, bea, cy, ana)]
    assert [entry.title for entry in sidebars[0]] == ["Kitchen", "Lobby"] and sidebars[2] == []
    lobbies = [sidebars[0][1].room, sidebars[1][0].room, sidebars[3][1].room]
    assert len({id(room) for room in lobbies}) == 3


def test_a_sidebar_entry_moves_forward_only_and_says_when_its_count_changed():
    """Sidebar.move, alone: markers never go back; it returns the entry only when its unread
    count changed (to be re-sent), and None for a room the sidebar does not hold."""
    room = Room(pk=1, name="Lobby", slug="lobby")
    sidebar = Sidebar([SidebarEntry(room=room, title="Lobby", last_seq=2, last_read_seq=2)])
    moved = sidebar.move(1, last_seq=3)
    assert moved is not None and moved.unread == 1
    assert sidebar.move(1, last_seq=2) is None  # an old event: nothing changes
    assert sidebar.move(1, last_read_seq=3).unread == 0
    assert sidebar.move(1, last_seq=4, last_read_seq=4) is None  # one's own message
    assert sidebar.move(2, last_seq=9) is None


def test_a_rooms_name_is_escaped_in_the_sidebar_and_its_entry():
    """The sidebar's Jinja2 templates autoescape: a name typed as HTML shows as text, in the
    whole sidebar and in an entry's push alike, and the entry links to the room's page."""
    from chat import fragments

    room = Room(pk=7, name="<img src=x onerror=alert(1)>", slug="tricky", last_seq=3)
    entry = SidebarEntry(room, room.name, last_seq=3, last_read_seq=1)
    for html in (
        fragments.sidebar(entries=[entry], current_room_id=None),
        fragments.sidebar_entry(entry=entry, current_room_id=None),
    ):
        assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img" not in html
        assert f'href="{room.get_absolute_url()}#new-messages"' in html and unread_badge(html, room) == "2"


def test_a_sidebar_render_is_kept_by_what_it_shows_and_redone_when_any_of_it_changes():
    """fragments.sidebar and sidebar_entry keep their renders per language, current room and what
    the entries show: the same state again renders nothing new, and each change of a shown
    field (count, mention, title, archived, the current room, the language) shows."""
    from django.utils import timezone, translation

    from chat import fragments

    def shown(entry, current_room_id=None):
        return (
            fragments.sidebar(entries=[entry], current_room_id=current_room_id),
            fragments.sidebar_entry(entry=entry, current_room_id=current_room_id),
        )

    room = Room(pk=8, name="Kept", slug="kept", last_seq=3)
    entry = SidebarEntry(room, "Kept", last_seq=3, last_read_seq=1)
    first = shown(entry)
    hits = fragments._sidebar_html.cache_info().hits, fragments._sidebar_entry_html.cache_info().hits
    assert shown(SidebarEntry(Room(pk=8, name="Kept", slug="kept", last_seq=3), "Kept", 3, 1)) == first
    assert fragments._sidebar_html.cache_info().hits == hits[0] + 1
    assert fragments._sidebar_entry_html.cache_info().hits == hits[1] + 1
    assert all(unread_badge(html, room) == "2" for html in first)

    entry.last_seq = 5
    assert all(unread_badge(html, room) == "4" for html in shown(entry))
    entry.mention_seqs = [5]
    assert all("@1" in html for html in shown(entry))
    entry.title = "Renamed"
    assert all("Renamed" in html for html in shown(entry))
    room.archived_at = timezone.now()
    assert all("archived" in html for html in shown(entry))
    assert all('aria-current="page"' in html for html in shown(entry, current_room_id=8))
    with translation.override("es"):
        assert all("Archivada" in html for html in shown(entry))
