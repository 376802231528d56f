"""The heartbeat: every open room page is sent its status and who is online, fresh, so that its
CSS can tell when they stop coming (the server went away)."""

import pytest
from channels.db import database_sync_to_async

from chat.rooms import room_get_or_create
from chat.tests.support import join

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_in_memory_layer")]


async def test_each_open_room_page_gets_its_status_and_presence_every_beat(make_user, settings):
    settings.CHAT_HEARTBEAT_SECONDS = 0.2
    ana = await database_sync_to_async(make_user)("ana")
    await database_sync_to_async(room_get_or_create)(name="Lobby")
    anas = await join("lobby", ana)
    for _beat in range(2):
        frame = await anas.receive_from(timeout=2)
        assert 'class="room-status live"' in frame and "Connected" in frame and "Reconnecting" in frame
        assert 'id="presence" class="presence live' in frame and ">ana<" in frame
    await anas.disconnect()


def test_the_room_page_goes_stale_after_two_missed_beats_and_five_seconds(make_user, settings):
    from chat.tests.support import logged_in

    settings.CHAT_HEARTBEAT_SECONDS = 10
    room_get_or_create(name="Lobby")
    page = logged_in(make_user("ana")).get("/chat/lobby/").content.decode()
    assert "#room { --stale-after: 25s; }" in page
