"""Formatting stored with each message, and mentions: who is mentioned (members only, @here, never
the author), what it costs, unread mentions in the sidebar, and the Mentions page."""

from unittest import mock

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat.memberships import membership_join, membership_mark_read, membership_remove
from chat.mentions import mentions_unread
from chat.messages import message_create
from chat.models import Membership, Mention, Room
from chat.presence import presence_reset, presence_touch
from chat.rooms import room_create_private, room_get_or_create
from chat.sidebar import Sidebar, SidebarEntry, sidebar_entries
from chat.tests.support import logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def lobby(people):
    """The public room Lobby, with ana, bea and cy as members."""
    room = room_get_or_create(name="Lobby")[0]
    for person in people:
        membership_join(room=room, user=person)
    return room


def mentioned(message) -> set[str]:
    return set(Mention.objects.filter(message=message).values_list("user__username", flat=True))


def test_a_message_keeps_its_source_and_stores_its_formatted_html(lobby, people):
    """The body is what was typed; body_html its safe HTML, rendered once, when saved."""
    message = message_create(room=lobby, author=people[0], body="**bold** see https://example.com <b>")
    message.refresh_from_db()
    assert message.body == "**bold** see https://example.com <b>"
    assert message.body_html.startswith('<p><strong>bold</strong> see <a href="https://example.com"')
    assert message.body_html.endswith("&lt;b&gt;</p>")


def test_only_members_of_a_private_room_are_mentioned_and_others_stay_plain_text(people):
    """Naming someone outside a private room neither records nor links them."""
    ana, bea, cy = people
    plans = room_create_private(name="Plans", creator=ana)
    Membership.objects.create(room=plans, user=bea)

    message = message_create(room=plans, author=ana, body="@bea and @cy and @nobody")

    assert mentioned(message) == {"bea"}
    assert message.body_html == ('<p><span class="mention" data-mention="bea">@bea</span> and @cy and @nobody</p>')


def test_a_mention_matches_the_username_whatever_its_case_and_shows_it_as_stored(lobby, people):
    """@BEA mentions bea, and reads @bea."""
    message = message_create(room=lobby, author=people[0], body="hi @BEA")
    assert mentioned(message) == {"bea"}
    assert '<span class="mention" data-mention="bea">@bea</span>' in message.body_html


def test_the_author_is_never_told_of_their_own_mention_and_inactive_members_are_not_told(lobby, people):
    """Ana naming herself records nothing; a deactivated member is not mentioned either."""
    ana, bea, cy = people
    cy.is_active = False
    cy.save()
    message = message_create(room=lobby, author=ana, body="note to self @ana, and @bea @cy")
    assert mentioned(message) == {"bea"}


def test_here_mentions_the_members_who_have_the_room_open_now(lobby, people, make_user):
    """@here: bea has the room open, cy does not; dan, present elsewhere, is no member here."""
    ana, bea, _cy = people
    dan = make_user("dan")
    async_to_sync(presence_reset)()
    async_to_sync(presence_touch)(room_id=lobby.pk, user=bea, channel_name="bea-tab")
    async_to_sync(presence_touch)(room_id=lobby.pk, user=ana, channel_name="ana-tab")
    other = room_get_or_create(name="Other")[0]
    async_to_sync(presence_touch)(room_id=other.pk, user=dan, channel_name="dan-tab")

    message = message_create(room=lobby, author=ana, body="@here standup")

    assert mentioned(message) == {"bea"}
    assert message.body_html == ('<p><span class="mention mention-here" data-mention="here">@here</span> standup</p>')
    async_to_sync(presence_reset)()


def test_posting_costs_two_more_queries_with_mentions_however_many_are_mentioned(lobby, people, make_user):
    """Finding the mentioned members is one query, recording them one bulk insert: mentioning one
    member or twenty costs the same, and a message without "@" costs nothing more. (A message
    that mentions someone is stored the ORM's way, also on PostgreSQL: chat.message_store.)"""
    ana = people[0]
    crowd = [make_user(f"user{n}") for n in range(20)]
    Membership.objects.bulk_create(Membership(room=lobby, user=user) for user in crowd)

    def queries_to_post(body: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            message_create(room=lobby, author=ana, body=body)
        return len(queries)

    with mock.patch("chat.messages.one_statement_store", return_value=False):
        plain_orm = queries_to_post("hi **all**")
    plain, one = queries_to_post("hi **all**"), queries_to_post("hi @bea")
    twenty = queries_to_post(" ".join(f"@{user.username}" for user in crowd))
    assert one == twenty == plain_orm + 2
    assert plain <= plain_orm
    assert queries_to_post("hi @nobody") == plain + 1


def test_unread_mentions_are_those_after_the_read_marker(lobby, people):
    """Bea's sidebar counts the mentions she has not read, per room, and forgets them once read."""
    ana, bea, _cy = people
    first = message_create(room=lobby, author=ana, body="@bea one")
    message_create(room=lobby, author=ana, body="no mention")
    third = message_create(room=lobby, author=ana, body="@bea three")
    assert mentions_unread(bea) == {lobby.pk: [first.seq, third.seq]}

    membership_mark_read(room=lobby, user=bea, seq=first.seq)
    [entry] = [entry for entry in sidebar_entries(bea) if entry.room == lobby]
    assert (entry.unread, entry.mentions) == (2, 1)

    membership_mark_read(room=lobby, user=bea, seq=third.seq)
    assert mentions_unread(bea) == {}


def test_a_sidebar_entry_counts_a_mention_until_it_is_read():
    """Sidebar.move alone: a mentioning message moves both counts; reading past it clears the
    badge, reading before it keeps it; an old mention event changes nothing."""
    room = Room(pk=1, name="Lobby", slug="lobby")
    sidebar = Sidebar([SidebarEntry(room=room, title="Lobby", last_seq=2, last_read_seq=2)])
    entry = sidebar.move(1, last_seq=3, mentioned=True)
    assert (entry.unread, entry.mentions) == (1, 1)
    assert sidebar.move(1, last_seq=3, mentioned=True) is None
    assert sidebar.move(1, last_seq=4).mentions == 1
    assert sidebar.move(1, last_read_seq=4).mentions == 0
    assert sidebar.move(1, last_seq=5, mentioned=True).mentions == 1
    assert sidebar.move(1, last_seq=6, last_read_seq=6) is not None  # her own reply: all read


def test_mentions_page_lists_the_messages_that_mention_the_reader_newest_first(lobby, people):
    """Each links to its message's permalink; messages that do not mention her are left out."""
    ana, bea, _cy = people
    older = message_create(room=lobby, author=ana, body="@bea **first**")
    message_create(room=lobby, author=ana, body="not for bea")
    newer = message_create(room=lobby, author=ana, body="again @bea")

    page = logged_in(bea).get("/chat/mentions/").content.decode()

    assert page.index(f'id="message-{newer.pk}"') < page.index(f'id="message-{older.pk}"')
    assert f'class="mention-room small fw-semibold" href="/chat/lobby/m/{older.seq}/"' in page
    assert "<strong>first</strong>" in page and "not for bea" not in page
    assert 'href="/chat/mentions/"' in page  # the sidebar's link


def test_mentions_page_leaves_out_private_rooms_the_reader_has_left(people):
    """Mentions stay where the reader can still read them."""
    ana, bea, _cy = people
    plans = room_create_private(name="Plans", creator=ana)
    Membership.objects.create(room=plans, user=bea)
    message_create(room=plans, author=ana, body="@bea secret plans")
    assert "secret plans" in logged_in(bea).get("/chat/mentions/").content.decode()

    membership_remove(room=plans, remover=bea, user=bea)

    assert "secret plans" not in logged_in(bea).get("/chat/mentions/").content.decode()


def test_mentions_page_costs_the_same_queries_for_one_mention_or_a_page_of_them(lobby, people):
    """Messages, rooms, authors and profiles come in one query; titles in at most one more."""
    ana, bea, _cy = people
    client = logged_in(bea)
    message_create(room=lobby, author=ana, body="@bea once")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            client.get("/chat/mentions/")
        return len(captured)

    one = queries()
    for n in range(20):
        message_create(room=lobby, author=people[n % 2 * 2], body=f"@bea {n}")
    assert queries() == one


def test_mentions_page_is_paginated(lobby, people):
    """25 a page, the oldest on the second."""
    ana, bea, _cy = people
    first = message_create(room=lobby, author=ana, body="@bea 0")
    for n in range(1, 26):
        message_create(room=lobby, author=ana, body=f"@bea {n}")
    client = logged_in(bea)

    assert f'id="message-{first.pk}"' not in client.get("/chat/mentions/").content.decode()
    second = client.get("/chat/mentions/?page=2").content.decode()
    assert f'id="message-{first.pk}"' in second and second.count('class="mention-item') == 1


def test_a_room_called_mentions_does_not_take_the_mentions_pages_address(people):
    """ "mentions" is a reserved slug, like "search"."""
    room = room_get_or_create(name="Mentions", creator=people[0])[0]
    assert room.slug == "mentions-2"


def test_the_room_page_highlights_mentions_of_its_reader_and_here_only(lobby, people):
    """The per-reader rule names the reader (the pushed fragment is the same for everyone)."""
    page = logged_in(people[1]).get("/chat/lobby/").content.decode()
    assert '.mention[data-mention="bea"], .mention-here {' in page
    assert 'data-mention="ana"]' not in page
