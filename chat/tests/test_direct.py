"""Direct conversations: one per set of people, started from a name, private to those people."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from chat.memberships import membership_invite, membership_remove
from chat.models import Room
from chat.rooms import DIRECT_MAX_PEOPLE, room_get_or_create_direct
from chat.tests.support import logged_in

pytestmark = pytest.mark.django_db


def test_one_conversation_per_set_of_people_whoever_starts_it(people):
    ana, bea, cy = people
    ana_bea, created = room_get_or_create_direct(starter=ana, usernames=["bea"])
    again, created_again = room_get_or_create_direct(starter=bea, usernames=["ana", "bea"])
    group, _created = room_get_or_create_direct(starter=cy, usernames=["bea", "ana"])
    same_group, _created = room_get_or_create_direct(starter=ana, usernames=["cy", "bea"])

    assert created and not created_again and again == ana_bea
    assert same_group == group != ana_bea
    assert set(ana_bea.members.all()) == {ana, bea} and set(group.members.all()) == {ana, bea, cy}
    assert ana_bea.is_private and ana_bea.slug.startswith("dm-") and "ana" not in ana_bea.slug


@pytest.mark.parametrize(
    "usernames, error",
    [
        (["nobody"], "There is no one called nobody."),
        (["ana"], "Name at least one other person to talk to."),
        ([f"user{n}" for n in range(DIRECT_MAX_PEOPLE)], f"at most {DIRECT_MAX_PEOPLE} people"),
    ],
    ids=["unknown", "only-oneself", "too-many"],
)
def test_a_conversation_needs_real_other_people_and_not_too_many(people, make_user, usernames, error):
    ana, *_ = people
    for n in range(DIRECT_MAX_PEOPLE):
        make_user(f"user{n}")
    with pytest.raises(ValidationError, match=error):
        room_get_or_create_direct(starter=ana, usernames=usernames)
    assert not Room.objects.exclude(direct_key=None).exists()


def test_a_conversations_people_are_fixed(people):
    ana, bea, cy = people
    room, _created = room_get_or_create_direct(starter=ana, usernames=["bea"])
    with pytest.raises(PermissionDenied):
        membership_invite(room=room, inviter=ana, username="cy")
    with pytest.raises(PermissionDenied):
        membership_remove(room=room, remover=ana, user=ana)
    assert set(room.members.all()) == {ana, bea}


def test_starting_from_a_name_opens_the_conversation_titled_for_each_reader(people):
    """The "Message" button posts a username; each side sees the other's name as the title; the
    conversation is in both sidebars, not in the room index, and a 404 to anyone else."""
    ana, bea, cy = people
    response = logged_in(ana).post("/chat/direct/", {"usernames": "bea"})
    room = Room.objects.get(direct_key=f"{ana.pk},{bea.pk}")
    assert response["Location"] == room.get_absolute_url()
    assert logged_in(bea).post("/chat/direct/", {"usernames": "ana"})["Location"] == room.get_absolute_url()

    anas_page = logged_in(ana).get(room.get_absolute_url())
    beas_page = logged_in(bea).get(room.get_absolute_url())
    assert anas_page.context["title"] == "bea" and beas_page.context["title"] == "ana"
    assert [e.title for e in beas_page.context["sidebar_entries"] if e.room.is_direct] == ["ana"]
    assert room not in logged_in(bea).get("/chat/").context["rooms"]
    assert logged_in(cy).get(room.get_absolute_url()).status_code == 404


def test_starting_with_a_wrong_name_goes_back_with_the_error(people):
    ana, *_ = people
    response = logged_in(ana).post("/chat/direct/", {"usernames": "nobody"}, HTTP_REFERER="/chat/", follow=True)
    assert response.redirect_chain == [("/chat/", 302)]
    assert "There is no one called nobody." in response.content.decode()
