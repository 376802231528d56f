"""The latest page of a room kept per process (chat.latest): read once, and read again as soon
as anything it shows changes, from whatever path (a message, an edit, a reaction, a display
name, the admin), for each reader's language and time zone; never kept past a lost version."""

import re
from unittest import mock

import pytest
from django.core.cache import cache

from accounts.models import Profile
from chat import latest
from chat.access import access_version_get
from chat.edits import message_edit
from chat.memberships import membership_join
from chat.models import Message
from chat.reactions import reaction_toggle
from chat.rooms import room_get_or_create
from chat.tests.support import add_message, logged_in
from site_config.session_reads import session_reads_forget

pytestmark = pytest.mark.django_db


@pytest.fixture
def lobby(make_user):
    ana = make_user("ana")
    room = room_get_or_create(name="Lobby")[0]
    membership_join(room=room, user=ana)
    add_message(room, ana, "first words")
    return room, ana


def log_of(client, room) -> str:
    """The page's log, from its opening tag to the link after its messages."""
    page = client.get(room.get_absolute_url()).content.decode()
    return re.search(r'<div id="messages".*?(?=<div id="jump-latest"|<span id="jump)', page, re.S)[0]


def test_a_second_view_reads_no_messages_and_shows_the_same_log(lobby, django_assert_num_queries):
    room, ana = lobby
    client = logged_in(ana)
    first = log_of(client, room)
    # Eight, less the messages, reactions and attachments, the read marker's UPDATE (the sidebar
    # read says it is where it would go) and the members (kept with the page): the session, user
    # (read again here: site_config.session_reads) and sidebar (with the room).
    session_reads_forget()
    with django_assert_num_queries(3):
        second = log_of(client, room)
    assert second == first
    assert "first words" in second


def test_what_moves_the_rooms_seqs_is_shown_at_the_next_view(lobby, make_user):
    room, ana = lobby
    client = logged_in(ana)
    log_of(client, room)
    add_message(room, ana, "second words")
    assert "second words" in log_of(client, room)
    with mock.patch("chat.broadcasts.message_changed_broadcast"):
        message_edit(message=room.messages.get(seq=1), editor=ana, body="first words, edited")
    assert "first words, edited" in log_of(client, room)


def test_a_reaction_a_display_name_and_the_admins_changes_are_shown_at_the_next_view(
    lobby, django_capture_on_commit_callbacks
):
    room, ana = lobby
    client = logged_in(ana)
    log_of(client, room)
    message = room.messages.get(seq=1)
    with django_capture_on_commit_callbacks(execute=True), mock.patch("chat.broadcasts.reactions_broadcast"):
        reaction_toggle(message=message, user=ana, emoji="🎉")
    assert f'data-users=" {ana.pk} "' in log_of(client, room)

    with django_capture_on_commit_callbacks(execute=True):
        Profile.objects.update_or_create(user=ana, defaults={"display_name": "Ana María"})
    assert "Ana María" in log_of(client, room)

    with django_capture_on_commit_callbacks(execute=True):  # the admin's change form saves the row
        message.body, message.body_html = "moderated", ""
        message.save()
    assert "moderated" in log_of(client, room)

    with django_capture_on_commit_callbacks(execute=True):
        Message.objects.filter(pk=message.pk).delete()  # the admin's delete, or a cascade
    assert "moderated" not in log_of(client, room)


def test_each_time_zone_has_its_own_page(lobby, make_user):
    room, ana = lobby
    bea = make_user("bea")
    membership_join(room=room, user=bea)
    Profile.objects.update_or_create(user=bea, defaults={"time_zone": "Pacific/Kiritimati"})
    ana_log, bea_log = log_of(logged_in(ana), room), log_of(logged_in(bea), room)
    assert ana_log != bea_log  # the same message told at another hour (UTC+14)
    assert log_of(logged_in(ana), room) == ana_log


def test_a_lost_version_or_an_old_page_is_read_again(lobby, django_assert_num_queries):
    room, ana = lobby
    client = logged_in(ana)
    cache.clear()
    log_of(client, room)  # its versions made now
    Message.objects.filter(room=room).update(body="changed behind its back", body_html="")  # no signal
    assert "changed behind" not in log_of(client, room)  # kept: nothing said it changed

    cache.clear()  # the versions lost (an eviction, a new Redis)
    assert "changed behind" in log_of(client, room)

    Message.objects.filter(room=room).update(body="changed again", body_html="")
    later = latest.time.monotonic() + latest.MEMO_SECONDS
    with mock.patch.object(latest.time, "monotonic", return_value=later):
        assert "changed again" in log_of(client, room)


def test_with_the_cache_away_every_view_reads_the_database(lobby, django_assert_num_queries):
    room, ana = lobby
    client = logged_in(ana)
    with mock.patch.object(latest.cache, "get_many", side_effect=OSError("cache away")):
        assert "first words" in log_of(client, room)
        with django_assert_num_queries(7):  # all but the marker's UPDATE (read already)
            assert "first words" in log_of(client, room)


def members_of(client, room) -> str:
    """The page's member list."""
    page = client.get(room.get_absolute_url()).content.decode()
    return re.search(r'<ul id="members-list".*?</ul>', page, re.S)[0]


def test_the_member_list_is_kept_until_a_membership_or_a_name_changes(
    lobby, make_user, django_capture_on_commit_callbacks, django_assert_num_queries
):
    room, ana = lobby
    client = logged_in(ana)
    assert "bea" not in members_of(client, room)
    bea = make_user("bea")
    with django_capture_on_commit_callbacks(execute=True), mock.patch("chat.memberships.members_broadcast"):
        membership_join(room=room, user=bea)  # a join (the admin's inline alike: a saved membership)
    assert "bea" in members_of(client, room)
    assert latest.latest_members(room)[1] == 2
    with django_assert_num_queries(0):  # kept
        assert latest.latest_members(room)[1] == 2

    with django_capture_on_commit_callbacks(execute=True):
        Profile.objects.update_or_create(user=bea, defaults={"display_name": "Beatriz"})
    assert "Beatriz" in members_of(client, room)

    with django_capture_on_commit_callbacks(execute=True):
        room.memberships.filter(user=bea).delete()  # a removal, by whatever path
    assert "Beatriz" not in members_of(client, room)


def test_a_membership_moved_to_another_user_ends_the_old_members_access_and_shows_the_new_one(
    lobby, make_user, django_capture_on_commit_callbacks
):
    """The admin's inline can give a stored membership another user: a removal and a join."""
    room, ana = lobby
    bea, cy = make_user("bea"), make_user("cy")
    with mock.patch("chat.memberships.members_broadcast"):
        membership_join(room=room, user=bea)
    client = logged_in(ana)
    assert "bea" in members_of(client, room) and "cy" not in members_of(client, room)
    before = access_version_get(bea.pk)
    membership = room.memberships.get(user=bea)
    membership.user = cy
    with django_capture_on_commit_callbacks(execute=True):
        membership.save()
    listed = members_of(client, room)
    assert "cy" in listed and "bea" not in listed
    assert access_version_get(bea.pk) not in (None, before)  # bea's gates and sockets check again
