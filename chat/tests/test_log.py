"""The log a reader lands in: grouped by author, opened where they left off (a page at the first
unread when they missed more than a page, with newer pages on demand), and the tab title's
count of what is unread elsewhere, live."""

import datetime
import json
import re

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from chat.latest import latest_forget
from chat.memberships import membership_join, membership_remove
from chat.messages import message_create
from chat.models import Membership
from chat.rooms import room_create_private, room_get_or_create
from chat.selectors import message_history
from chat.tests.support import add_message, logged_in, post_frame
from site_config.session_reads import session_reads_forget

pytestmark = pytest.mark.django_db(transaction=True)


def test_consecutive_messages_of_one_author_within_minutes_form_a_group(make_user):
    """Same author within 5 minutes on one day: grouped; another author, a longer pause or a new
    day starts a new group."""
    ana, bea = make_user("ana"), make_user("bea")
    room = room_get_or_create(name="Lobby")[0]
    start = timezone.now().replace(hour=10, minute=0) - datetime.timedelta(days=1)
    for author, minutes in [(ana, 0), (ana, 1), (ana, 5), (bea, 6), (bea, 12), (bea, 24 * 60)]:
        add_message(room, author, f"at {minutes}", created_at=start + datetime.timedelta(minutes=minutes))

    lines = message_history(room=room)

    assert [line.continued for line in lines] == [False, True, True, False, False, False]
    assert [line.new_day for line in lines] == [True, False, False, False, False, True]


async def test_a_live_message_joins_its_authors_group_and_the_page_shows_it_so(lobby_sockets):
    """Ana's second message in a row is pushed as a continued bubble; Bea's next one is not."""
    _room, (ana, bea) = await lobby_sockets("ana", "bea")
    pushes = []
    for socket, text in [(ana, "uno"), (ana, "dos"), (bea, "tres")]:
        await socket.send_to(text_data=post_frame(text))
        while f">{text}<" not in (frame := await bea.next_frame(5)):
            pass
        pushes.append(frame)
    classes = [re.search(r'<article class="([^"]+)"', push).group(1) for push in pushes]
    assert classes == ["message live", "message continued live", "message live"]


def test_a_reader_who_missed_more_than_a_page_lands_on_the_first_unread(make_user, settings):
    """With 12 unread and pages of 5, the page opens just above the first unread (one read message
    above it: at most a quarter of a page, older on demand) with the divider, stops short of the
    newest with a "Show newer" link, and its cursor is the newest (the socket sends only what
    comes next)."""
    settings.CHAT_HISTORY_LIMIT = 5
    ana, bea = make_user("ana"), make_user("bea")
    room = room_get_or_create(name="Lobby")[0]
    membership_join(room=room, user=bea)
    for number in range(1, 21):
        add_message(room, ana, f"message {number}")
    Membership.objects.filter(room=room, user=bea).update(last_read_seq=8)

    page = logged_in(bea).get("/chat/lobby/").content.decode()

    assert [int(seq) for seq in re.findall(r'data-seq="(\d+)"', page)] == [8, 9, 10, 11, 12]
    assert page.index('data-seq="8"') < page.index('id="new-messages"') < page.index('data-seq="9"')
    assert "/chat/lobby/newer/?after=12&amp;upto=20" in page and 'name="after" value="20"' in page
    assert "/chat/lobby/older/?before=8" in page


def test_newer_pages_follow_in_order_up_to_where_the_live_messages_begin(make_user, settings):
    """Pages of 10, 8 read of 25: the page shows 7-16; "Show newer" brings 17-24 and no link
    when it reaches `upto` (the page's cursor), a link again when it does not."""
    settings.CHAT_HISTORY_LIMIT = 10
    ana, bea = make_user("ana"), make_user("bea")
    room = room_get_or_create(name="Lobby")[0]
    membership_join(room=room, user=bea)
    for number in range(1, 26):
        add_message(room, ana, f"message {number}")
    Membership.objects.filter(room=room, user=bea).update(last_read_seq=8)
    client = logged_in(bea)

    page = client.get("/chat/lobby/").content.decode()
    short = client.get("/chat/lobby/newer/?after=4&upto=25", headers={"HX-Request": "true"}).content.decode()
    last = client.get("/chat/lobby/newer/?after=16&upto=25", headers={"HX-Request": "true"}).content.decode()

    assert [int(s) for s in re.findall(r'data-seq="(\d+)"', page)] == list(range(7, 17))
    assert [int(s) for s in re.findall(r'data-seq="(\d+)"', short)] == list(range(5, 15))
    assert "?after=14&amp;upto=25" in short and "day-separator" not in short
    assert [int(s) for s in re.findall(r'data-seq="(\d+)"', last)] == list(range(17, 26)) and 'id="newer"' not in last
    assert Membership.objects.get(room=room, user=bea).last_read_seq == 25


def test_without_javascript_newer_messages_are_a_whole_page(make_user, settings):
    settings.CHAT_HISTORY_LIMIT = 3
    ana = make_user("ana")
    room = room_get_or_create(name="Lobby")[0]
    for number in range(1, 10):
        add_message(room, ana, f"message {number}")
    page = logged_in(ana).get("/chat/lobby/newer/?after=2").content.decode()
    assert page.startswith("<!doctype html>") and [int(s) for s in re.findall(r'data-seq="(\d+)"', page)] == [3, 4, 5]
    assert "/chat/lobby/newer/?after=5" in page


def test_sidebar_links_to_unread_rooms_land_on_the_new_messages_divider(make_user):
    ana, bea = make_user("ana"), make_user("bea")
    lobby, cafe = room_get_or_create(name="Lobby")[0], room_get_or_create(name="Café")[0]
    for room in (lobby, cafe):
        membership_join(room=room, user=bea)
        Membership.objects.filter(room=room, user=bea).update(last_read_seq=0)
    message_create(room=cafe, author=ana, body="hola")
    page = logged_in(bea).get("/chat/lobby/").content.decode()
    assert f'href="{cafe.get_absolute_url()}#new-messages"' in page
    assert f'href="{lobby.get_absolute_url()}"' in page
    assert '<title id="page-title">(1) Lobby · Tertulia' in page


async def test_the_tab_title_counts_what_is_unread_elsewhere_live(lobby_sockets, make_user):
    """Bea has Lobby open; a message in Café (her other room) moves her tab title to "(1) Lobby"."""
    _lobby, (bea,) = await lobby_sockets("bea")
    ana = await database_sync_to_async(make_user)("ana")
    cafe = (await database_sync_to_async(room_get_or_create)(name="Café"))[0]
    await database_sync_to_async(membership_join)(room=cafe, user=bea.user)
    await bea.frames_before("sidebar", side=True)  # the sidebar re-sent with Café

    await database_sync_to_async(message_create)(room=cafe, author=ana, body="hola")

    frames = await bea.frames_before('innerHTML:#page-title">(1) Lobby · Tertulia', side=True)
    assert all("hola" not in frame for frame in frames)


async def test_the_member_list_and_count_follow_joins_and_leaves_live(lobby_sockets, make_user, settings):
    """Cy joins Lobby, then leaves it: Ana's open page gets the list and count each time, the
    same bytes for every reader, with no token in them (its buttons name the page's forms).
    (Pushes are not spaced here: spaced, the two changes could ride in one push.)"""
    settings.CHAT_PRESENCE_PUSH_SECONDS, settings.CHAT_PRESENCE_PUSH_RATE = 0, 1e9
    room, (ana,) = await lobby_sockets("ana")
    cy = await database_sync_to_async(make_user)("cy")

    await database_sync_to_async(membership_join)(room=room, user=cy)
    joined = await ana.receive_side()
    while not joined.startswith('<span id="members-count">') or f'data-user="{cy.pk}"' not in joined:
        joined = await ana.receive_side()  # (the push of Ana's own joining, her socket's admission, may come first)
    await database_sync_to_async(membership_remove)(room=room, remover=cy, user=cy)
    left = await ana.receive_side()
    while not left.startswith('<span id="members-count">'):
        left = await ana.receive_side()

    assert joined.startswith('<span id="members-count">2</span>') and f'data-user="{cy.pk}"' in joined
    assert 'form="member-remove-form" name="user_id"' in joined and "csrfmiddlewaretoken" not in joined
    assert left.startswith('<span id="members-count">1</span>') and f'data-user="{cy.pk}"' not in left


def test_the_members_panel_buttons_post_through_the_pages_forms(make_user):
    """ "Leave room" posts the reader's id to the room's remove form, and works."""
    ana = make_user("ana")
    room = room_get_or_create(name="Lobby")[0]
    membership_join(room=room, user=ana)
    client = logged_in(ana)
    page = client.get("/chat/lobby/").content.decode()
    assert '<form id="member-remove-form" method="post" action="/chat/lobby/members/remove/" hidden>' in page
    assert f'.member[data-user="{ana.pk}"] .member-message' in page
    response = client.post("/chat/lobby/members/remove/", {"user_id": ana.pk})
    assert response.status_code == 302 and not Membership.objects.filter(room=room, user=ana).exists()
    assert client.post("/chat/lobby/members/remove/", {"user_id": "x"}).status_code == 400


def test_a_permalink_opens_the_room_around_its_message_marked(make_user, settings):
    """Message 30 of 100 (pages of 10): the page shows 26-35 around it, marks it, links older
    and newer; every bubble's time links to its own permalink; a seq with no message is a 404,
    and so is a private room's permalink to an outsider."""
    settings.CHAT_HISTORY_LIMIT = 10
    ana, bea = make_user("ana"), make_user("bea")
    room = room_get_or_create(name="Lobby")[0]
    membership_join(room=room, user=ana)
    for number in range(1, 101):
        add_message(room, ana, f"message {number}")
    client = logged_in(ana)

    page = client.get("/chat/lobby/m/30/").content.decode()

    assert [int(s) for s in re.findall(r'<article[^>]*data-seq="(\d+)"', page)] == list(range(26, 36))
    assert '.message[data-seq="30"] { outline' in page
    assert '<a class="message-link" href="/chat/lobby/m/30/">' in page
    assert "/chat/lobby/older/?before=26" in page and "/chat/lobby/newer/?after=35&amp;upto=100" in page
    assert client.get("/chat/lobby/m/101/").status_code == 404
    plans = room_create_private(name="Plans", creator=ana)
    add_message(plans, ana, "secret")
    assert logged_in(bea).get(f"/chat/{plans.slug}/m/1/").status_code == 404


def test_the_composer_suggests_the_members_an_at_name_may_name(make_user):
    """Text ending in "@ca" (POSTed by the text area): the room's members starting with "ca",
    not others, nor anyone outside it; no @name at the end: nothing; GET refused (no text in URLs)."""
    ana, carla, camilo = make_user("ana"), make_user("carla"), make_user("camilo")
    make_user("cata")  # a user, not a member: never suggested
    room = room_get_or_create(name="Lobby")[0]
    for user in (ana, carla, camilo):
        membership_join(room=room, user=user)
    client = logged_in(ana)

    typed = client.post("/chat/lobby/mentions/suggest/", {"message": "hola @ca"}).content.decode()
    plain = client.post("/chat/lobby/mentions/suggest/", {"message": "hola @carla y más"}).content.decode()

    assert "@camilo" in typed and "@carla" in typed and "@cata" not in typed and "@ana" not in typed
    assert plain.strip().startswith('<p id="mention-suggestions"') and "@carla" not in plain
    assert client.get("/chat/lobby/mentions/suggest/?message=x").status_code == 405


def jump_labels(frames: list[str]) -> list[str]:
    """The texts of the "Jump to latest" labels among `frames`."""
    labels = [re.search(r'<span id="jump-label"(?: data-unseen="\d+")?>(.*?)</span>$', frame, re.S) for frame in frames]
    return [re.sub(r"<[^>]+>", "|", label[1]) for label in labels if label]


async def test_jump_to_latest_counts_what_came_while_its_reader_was_scrolled_up(lobby_sockets):
    """Bea scrolls up: Ana's next two messages are counted on Bea's socket alone ("1 new
    message", "2 new messages"), Bea's own is not; back at the bottom her label is plain again
    and nothing is counted."""
    _room, (ana, bea) = await lobby_sockets("ana", "bea")
    await bea.send_to(text_data=json.dumps({"scrolled": "up"}))
    # Handled before Ana posts: a socket takes its frames and the layer's events as they come.
    assert jump_labels(await bea.frames_so_far()) == ["|Jump to latest ↓||New messages below ↓|"]
    frames = []
    for socket, text in [(ana, "uno"), (bea, "mío"), (ana, "dos")]:
        await socket.send_to(text_data=post_frame(text))
        frames += await bea.frames_before(f">{text}<")  # shown before the next is sent: no two in one catch-up
    frames += await bea.frames_so_far()
    assert jump_labels(frames) == ["1 new message ↓", "2 new messages ↓"]
    assert jump_labels(await ana.frames_so_far()) == []

    await bea.send_to(text_data=json.dumps({"scrolled": "bottom"}))
    await bea.settle()  # handled before Ana posts again, as above
    await ana.send_to(text_data=post_frame("tres"))
    after = await bea.frames_before(">tres<") + await bea.frames_so_far()
    assert jump_labels(after) == ["|Jump to latest ↓||New messages below ↓|"]


def forget() -> None:
    """Forget what this process keeps of pages and sessions."""
    latest_forget()
    session_reads_forget()


def test_a_room_page_costs_the_same_queries_whatever_its_history_and_the_readers_rooms(
    make_user, django_assert_num_queries
):
    """Session, user with profile, sidebar (memberships with their rooms, whether any has
    unread mentions), history (messages, reactions, attachments), the read marker's UPDATE,
    members: eight (thirteen before the profile came with the user, ten before the mentions
    came with the memberships, nine before a member's room came with the sidebar), for a room
    of 3 messages or of 60, a reader in one room or five. The reader's marker comes with the
    sidebar and the page's cursor with the room. A visitor's public room is read on its own
    (and no marker moves). Each view here reads afresh what a process may keep (the members,
    the reader's session: chat.latest, site_config.session_reads)."""
    ana = make_user("ana")
    room = room_get_or_create(name="Lobby")[0]
    membership_join(room=room, user=ana)
    client = logged_in(ana)
    for _ in range(3):
        add_message(room, ana, "hi")
    forget()
    with django_assert_num_queries(8):
        assert client.get(room.get_absolute_url()).status_code == 200
    for index in range(4):
        membership_join(room=room_get_or_create(name=f"Room {index}")[0], user=ana)
    for _ in range(57):
        add_message(room, ana, "hi")
    forget()
    with django_assert_num_queries(8):
        page = client.get(room.get_absolute_url()).content.decode()
    assert f'value="{room.messages.count()}"' in page  # the cursor: the newest message shown
    visitor = logged_in(make_user("bea"))
    forget()
    with django_assert_num_queries(8):
        page = visitor.get(room.get_absolute_url()).content.decode()
    assert f'value="{room.messages.count()}"' in page
