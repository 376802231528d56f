"""Public and private rooms: who sees, enters, invites and removes; checked on the page and
on the socket."""

import pytest
from channels.db import database_sync_to_async
from django.core.exceptions import PermissionDenied, ValidationError

from chat.consumers import CLOSE_NOT_A_MEMBER, CLOSE_ROOM_NOT_FOUND
from chat.memberships import membership_admit, membership_invite, membership_join, membership_remove
from chat.models import Membership, Room
from chat.rooms import room_create_private, room_get_or_create
from chat.selectors import room_members, rooms_visible_to
from chat.tests.support import add_message, join, logged_in, open_socket, post_barrier, post_frame


@pytest.mark.django_db
def test_private_room_is_visible_only_to_members_and_its_name_is_not_reserved(people):
    ana, bea, cy = people
    plans = room_create_private(name="Plans", creator=ana)
    public, created = room_get_or_create(name="Plans", creator=bea)
    other_plans = room_create_private(name="Plans", creator=cy)
    # Private rooms take random slugs: they say nothing of their names and take none from public rooms.
    assert created and public.slug == "plans" and plans.slug.startswith("p-") and other_plans.slug != plans.slug
    assert set(rooms_visible_to(ana)) == {plans, public}
    assert set(rooms_visible_to(cy)) == {public, other_plans}


@pytest.mark.django_db
def test_only_members_invite_and_only_creator_or_staff_remove(people, make_user):
    ana, bea, cy = people
    plans = room_create_private(name="Plans", creator=ana)
    with pytest.raises(PermissionDenied):
        membership_invite(room=plans, inviter=cy, username="bea")
    membership_invite(room=plans, inviter=ana, username="bea")
    with pytest.raises(ValidationError):
        membership_invite(room=plans, inviter=bea, username="bea")
    with pytest.raises(ValidationError):
        membership_invite(room=plans, inviter=bea, username="nobody")
    membership_invite(room=plans, inviter=bea, username="cy")
    with pytest.raises(PermissionDenied):
        membership_remove(room=plans, remover=bea, user=cy)
    staff = make_user("dee")
    staff.is_staff = True
    membership_remove(room=plans, remover=staff, user=cy)
    membership_remove(room=plans, remover=bea, user=bea)  # leaving
    assert list(plans.members.all()) == [ana]


@pytest.mark.django_db
def test_private_room_page_and_index_are_closed_to_outsiders(people):
    ana, _bea, cy = people
    plans = room_create_private(name="Plans", creator=ana)
    assert logged_in(cy).get(f"/chat/{plans.slug}/").status_code == 404
    assert "Plans" not in logged_in(cy).get("/chat/").content.decode()
    assert "Plans" in logged_in(ana).get("/chat/").content.decode()
    assert logged_in(ana).get(f"/chat/{plans.slug}/").status_code == 200


@pytest.mark.django_db
def test_index_form_creates_private_room_and_member_invites_from_the_page(people):
    ana, bea, _cy = people
    client = logged_in(ana)
    response = client.post("/chat/", {"name": "Plans", "is_private": "on"})
    room = Room.objects.get(name="Plans")
    assert response["Location"] == f"/chat/{room.slug}/"
    assert room.is_private and list(room.members.all()) == [ana]
    client.post(f"/chat/{room.slug}/invite/", {"username": "bea"})
    assert logged_in(bea).get(f"/chat/{room.slug}/").status_code == 200
    page = client.get(f"/chat/{room.slug}/").content.decode()
    assert "bea can now see Plans." in page and 'aria-label="Remove bea"' in page


@pytest.mark.django_db
def test_going_to_a_public_room_from_the_index_joins_it_and_a_get_does_not(people):
    """A GET (a link from another site) adds no room to a sidebar; "Go to room" does (and the
    room's socket: chat/tests/test_hardening.py)."""
    ana, *_ = people
    room_get_or_create(name="Lobby")
    logged_in(ana).get("/chat/lobby/")
    assert not Membership.objects.filter(room__slug="lobby", user=ana).exists()
    logged_in(ana).post("/chat/", {"name": "lobby"})
    assert Membership.objects.filter(room__slug="lobby", user=ana).exists()


@pytest.mark.django_db
def test_only_creator_or_staff_may_remove_through_the_page(people):
    ana, bea, cy = people
    plans = room_create_private(name="Plans", creator=ana)
    for user in (bea, cy):
        membership_invite(room=plans, inviter=ana, username=user.username)
    assert logged_in(bea).post(f"/chat/{plans.slug}/members/{cy.pk}/remove/").status_code == 403
    assert logged_in(ana).post(f"/chat/{plans.slug}/members/{cy.pk}/remove/").status_code == 302
    assert logged_in(cy).get(f"/chat/{plans.slug}/").status_code == 404


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_in_memory_layer")
async def test_outsiders_socket_on_a_private_room_is_refused_like_a_missing_rooms(people):
    ana, _bea, cy = people
    plans = await database_sync_to_async(room_create_private)(name="Plans", creator=ana)
    socket, connected = await open_socket(plans.slug, cy)
    assert connected
    assert await socket.receive_output() == {"type": "websocket.close", "code": CLOSE_ROOM_NOT_FOUND}
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_in_memory_layer")
async def test_removing_a_member_closes_their_socket_within_a_second(people):
    ana, bea, _cy = people
    plans = await database_sync_to_async(room_create_private)(name="Plans", creator=ana)
    await database_sync_to_async(membership_invite)(room=plans, inviter=ana, username="bea")
    beas = await join(plans.slug, bea)
    anas = await join(plans.slug, ana)

    await database_sync_to_async(membership_remove)(room=plans, remover=ana, user=bea)

    status = await beas.receive_from(timeout=1)
    assert "You were removed from this room" in status
    assert await beas.receive_output(timeout=1) == {"type": "websocket.close", "code": CLOSE_NOT_A_MEMBER}
    assert await anas.frames_before(await post_barrier(plans, ana)) == []  # Ana's socket stays
    await anas.disconnect()


@pytest.mark.django_db
def test_sidebar_counts_unread_messages_and_opening_the_room_clears_them(people):
    """Unread = messages after the reader's marker, computed when a page is read, shown once (in
    the sidebar, not again in the index's list); the room page shows a divider where the reader
    left off and marks everything read."""
    ana, bea, _cy = people
    lobby = room_get_or_create(name="Lobby")[0]
    ana_client, bea_client = logged_in(ana), logged_in(bea)
    add_message(lobby, ana, "first")
    bea_client.post("/chat/", {"name": "Lobby"})  # Bea joins ("Go to room")
    bea_client.get("/chat/lobby/")  # and has read "first"
    add_message(lobby, ana, "second")
    add_message(lobby, ana, "third")

    index = bea_client.get("/chat/").content.decode()
    assert index.count('aria-label="2 unread"') == 1 and 'class="sidebar-room unread"' in index
    page = bea_client.get("/chat/lobby/").content.decode()
    assert page.index(">first<") < page.index('id="new-messages"') < page.index(">second<")
    assert 'aria-label="2 unread"' not in bea_client.get("/chat/").content.decode()
    assert 'id="new-messages"' not in bea_client.get("/chat/lobby/").content.decode()
    assert "sidebar-room unread" not in ana_client.get("/chat/").content.decode()  # never opened: not a member


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_in_memory_layer")
async def test_an_open_room_is_marked_read_by_its_socket(people):
    """Messages delivered live count as read once the socket syncs or closes."""
    ana, bea, _cy = people
    lobby = (await database_sync_to_async(room_get_or_create)(name="Lobby"))[0]
    beas = await join("lobby", bea)
    anas = await join("lobby", ana)
    await anas.send_to(text_data=post_frame("hello"))
    while "hello" not in await beas.receive_from():
        pass
    await beas.disconnect()
    membership = await Membership.objects.aget(room=lobby, user=bea)
    assert membership.last_read_seq == 1
    await anas.disconnect()


@pytest.mark.django_db
def test_a_member_leaves_a_private_room_from_its_page_and_loses_sight_of_it(people):
    ana, bea, _cy = people
    plans = room_create_private(name="Plans", creator=ana)
    membership_invite(room=plans, inviter=ana, username="bea")
    client = logged_in(bea)
    assert "Leave room" in client.get(f"/chat/{plans.slug}/").content.decode()

    response = client.post(f"/chat/{plans.slug}/members/{bea.pk}/remove/", follow=True)

    assert response.redirect_chain == [("/chat/", 302)]
    assert "You left Plans." in response.content.decode()
    assert client.get(f"/chat/{plans.slug}/").status_code == 404


@pytest.mark.django_db
def test_the_member_count_is_counted_only_when_the_list_is_cut(make_user, django_assert_num_queries):
    """selectors.room_members: under its limit, the list is every member (one query); at it, the
    count is a query of its own."""
    room, _ = room_get_or_create(name="Lobby")
    for name in ("ana", "bea", "cy"):
        membership_join(room=room, user=make_user(name))
    with django_assert_num_queries(1):
        members, count = room_members(room, limit=5)
    assert [m.username for m in members] == ["ana", "bea", "cy"] and count == 3
    with django_assert_num_queries(2):
        members, count = room_members(room, limit=2)
    assert [m.username for m in members] == ["ana", "bea"] and count == 3


def test_a_members_admission_is_one_query_and_a_newcomer_to_a_public_room_joins(make_user, django_assert_num_queries):
    ana, bea = make_user("ana"), make_user("bea")
    lobby = room_get_or_create(name="Lobby")[0]
    corner = room_create_private(name="Corner", creator=ana)
    membership_join(room=lobby, user=ana)
    with django_assert_num_queries(1):
        assert membership_admit(slug=lobby.slug, user=ana) == lobby
    with django_assert_num_queries(1):
        assert membership_admit(slug="nowhere", user=ana) is None
    assert membership_admit(slug=lobby.slug, user=bea) == lobby
    assert Membership.objects.filter(room=lobby, user=bea).exists()
    assert membership_admit(slug=corner.slug, user=bea) is None  # as if it did not exist
    assert membership_admit(slug=corner.slug, user=ana) == corner
