"""Room settings (rename, describe) for the creator and staff, and archiving by moderators:
checked on the page, enforced by the services, pushed live to open pages."""

import json
import uuid

import pytest
from channels.db import database_sync_to_async
from django.core.exceptions import ValidationError

from chat.memberships import membership_join
from chat.messages import ARCHIVED, message_create
from chat.models import Room
from chat.rooms import room_archive, room_get_or_create, room_get_or_create_direct
from chat.tests.support import join, logged_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def lobby(make_user):
    """Lobby, created by Ana, with Bea in it too."""
    ana, bea = make_user("ana"), make_user("bea")
    room = room_get_or_create(name="Lobby", creator=ana)[0]
    membership_join(room=room, user=bea)
    return room, ana, bea


def test_creator_renames_and_describes_the_room_and_its_address_stays(lobby):
    room, ana, _bea = lobby
    response = logged_in(ana).post("/chat/lobby/settings/", {"name": "Front  Hall", "description": "Say hi <here>"})
    assert response["Location"] == "/chat/lobby/"
    room.refresh_from_db()
    assert (room.name, room.description, room.slug) == ("Front Hall", "Say hi <here>", "lobby")
    page = logged_in(ana).get("/chat/lobby/").content.decode()
    assert "Say hi &lt;here&gt;" in page and ".room-settings-link { display: none; }" not in page


def test_other_members_may_not_change_settings(lobby):
    room, _ana, bea = lobby
    assert ".room-settings-link { display: none; }" in logged_in(bea).get("/chat/lobby/").content.decode()
    assert logged_in(bea).get("/chat/lobby/settings/").status_code == 403
    assert logged_in(bea).post("/chat/lobby/settings/", {"name": "Mine"}).status_code == 403
    room.refresh_from_db()
    assert room.name == "Lobby"


def test_renaming_to_another_public_rooms_name_is_refused_on_the_form(lobby):
    room, ana, _bea = lobby
    room_get_or_create(name="Kitchen")
    response = logged_in(ana).post("/chat/lobby/settings/", {"name": "KITCHEN", "description": ""})
    assert response.status_code == 200
    assert "There is already a room called KITCHEN." in response.content.decode()
    room.refresh_from_db()
    assert room.name == "Lobby"


def test_archived_room_is_read_only(lobby):
    room, ana, _bea = lobby
    room_archive(room=room)
    with pytest.raises(ValidationError, match=str(ARCHIVED)):
        message_create(room=room, author=ana, body="anyone?")
    page = logged_in(ana).get("/chat/lobby/").content.decode()
    composer = page.split('<div id="composer"')[1].split("</section>")[0]
    assert str(ARCHIVED) in composer and "<textarea" not in composer and "ws-send" not in composer
    assert logged_in(ana).get("/chat/lobby/settings/").status_code == 403
    room_archive(room=room, archived=False)
    assert message_create(room=room, author=ana, body="back").seq == 1


def test_admin_archives_and_restores_rooms(admin_client, lobby):
    room, *_ = lobby
    admin_client.post("/admin/chat/room/", {"action": "archive", "_selected_action": [room.pk]})
    assert Room.objects.get(pk=room.pk).is_archived
    admin_client.post("/admin/chat/room/", {"action": "restore", "_selected_action": [room.pk]})
    assert not Room.objects.get(pk=room.pk).is_archived


@pytest.mark.usefixtures("fresh_in_memory_layer")
async def test_rename_and_archive_reach_open_pages_live(lobby):
    """Bea has Lobby open: a rename replaces its header; archiving replaces her composer with
    the read-only notice, and a message she still sends is answered with the error."""
    room, ana, bea = lobby
    beas = await join(room.slug, bea)

    anas_client = await database_sync_to_async(logged_in)(ana)
    await database_sync_to_async(anas_client.post)("/chat/lobby/settings/", {"name": "Hall", "description": "Hi"})
    header = await beas.receive_from()
    assert 'id="room-header"' in header and ">Hall</h1>" in header and 'id="composer"' not in header

    await database_sync_to_async(room_archive)(room=room)
    changed = await beas.receive_from()
    assert "Archived" in changed and str(ARCHIVED) in changed and '<div id="composer"' in changed

    await beas.send_to(text_data=json.dumps({"message": "late", "key": str(uuid.uuid4())}))
    assert str(ARCHIVED) in await beas.receive_from()
    await beas.disconnect()


@pytest.mark.usefixtures("fresh_in_memory_layer")
async def test_archiving_a_direct_conversation_keeps_each_readers_own_title(lobby):
    """Archiving Ana and Bea's conversation pushes its badges and composer, never the title
    "ana, bea" (each of them sees the other's name): the header's title is per reader."""
    _room, ana, bea = lobby
    conversation, _created = await database_sync_to_async(room_get_or_create_direct)(starter=ana, usernames=["bea"])
    anas = await join(conversation.slug, ana)

    await database_sync_to_async(room_archive)(room=conversation)
    changed = await anas.receive_from()
    assert 'id="room-badges"' in changed and "Archived" in changed and str(ARCHIVED) in changed
    assert "ana, bea" not in changed and 'id="room-header"' not in changed
    anas_client = await database_sync_to_async(logged_in)(ana)
    page = await database_sync_to_async(anas_client.get)(f"/chat/{conversation.slug}/")
    assert '<h1 id="room-title" class="h4 m-0">bea</h1>' in page.content.decode()
    await anas.disconnect()
