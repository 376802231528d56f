"""The access gate's first full check after a room's admission reads no room again (the
admission just did, after the user's group was joined), and only that check: every later
full check reads the room and refuses one that no longer admits the user."""

import pytest
from channels.db import database_sync_to_async
from django.contrib.sessions.backends.db import SessionStore

from chat.access import AccessGate
from chat.memberships import membership_remove
from chat.models import Room
from chat.rooms import room_create_private
from chat.tests.support import logged_in

pytestmark = pytest.mark.django_db(transaction=True)


async def test_only_the_check_right_after_admission_skips_reading_the_room(make_user, monkeypatch):
    @database_sync_to_async
    def setup():
        ana, bea = make_user("ana"), make_user("bea")
        room = room_create_private(name="Corner", creator=bea)
        room.memberships.create(user=ana)
        return ana, bea, room, SessionStore(logged_in(ana).session.session_key)

    ana, bea, room, session = await setup()
    gate = AccessGate({"user": ana, "session": session}, room)
    gate.room_admitted = True
    reads = []
    read_rooms = Room.objects.filter
    monkeypatch.setattr(Room.objects, "filter", lambda *a, **kw: reads.append(kw) or read_rooms(*a, **kw))

    assert (await gate.full_check(), reads) == ("ok", [])
    assert gate.room_admitted is False
    assert await gate.full_check() == "ok" and reads  # read again
    await database_sync_to_async(membership_remove)(room=room, remover=bea, user=ana)
    assert await gate.full_check() == "room"
