"""Moderation happens in the Django admin: rooms and messages, searchable and filterable."""

import pytest

from chat.rooms import room_get_or_create
from chat.tests.support import add_message

pytestmark = pytest.mark.django_db


def test_admin_finds_messages_by_text_and_filters_by_room(admin_client, make_user):
    ana = make_user("ana")
    lobby = room_get_or_create(name="Lobby")[0]
    other = room_get_or_create(name="Other")[0]
    add_message(lobby, ana, "needle in the lobby")
    add_message(other, ana, "needle elsewhere")
    add_message(lobby, ana, "haystack")

    found = admin_client.get("/admin/chat/message/", {"q": "needle", "room__id__exact": lobby.pk})

    assert found.status_code == 200
    assert list(found.context["cl"].queryset.values_list("body", flat=True)) == ["needle in the lobby"]


def test_admin_room_page_lists_members_and_searches_rooms(admin_client, make_user):
    lobby = room_get_or_create(name="Lobby")[0]
    room_get_or_create(name="Kitchen")
    assert admin_client.get(f"/admin/chat/room/{lobby.pk}/change/").status_code == 200
    found = admin_client.get("/admin/chat/room/", {"q": "lob"})
    assert [room.name for room in found.context["cl"].queryset] == ["Lobby"]
