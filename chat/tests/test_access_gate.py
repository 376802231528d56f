"""The access gate's first full check after a room's admission reads no room again (the
admission just did, after the user's group was joined), and only that check: every later
full check reads the room and refuses one that no longer admits the user. A socket's first
check takes its handshake's read of the session and user when nothing that may end access was
committed since (its user's access version is older than that read), and checks fully
otherwise."""

import time

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.cache import cache

from chat.access import AccessGate, _version_key
from chat.memberships import membership_remove
from chat.models import Room
from chat.rooms import room_create_private
from chat.tests.support import logged_in
from site_config import sessions

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


@pytest.fixture
def handshake(make_user):
    """Ana's session as a socket's handshake read it (loaded, with its expiry) at a time `read_at`."""

    @database_sync_to_async
    def make(read_at):
        ana = make_user("ana")
        session = sessions.SessionStore(logged_in(ana).session.session_key)
        session.load()
        return ana, session, {"user": ana, "session": session, "auth_read_at": read_at}

    return make


def full_checks_counted(monkeypatch) -> list:
    calls = []
    real = AccessGate.full_check

    async def counted(gate, version=None):
        calls.append(version)
        return await real(gate, version)

    monkeypatch.setattr(AccessGate, "full_check", counted)
    return calls


async def test_a_first_check_takes_the_handshakes_read_when_access_changed_long_before_it(handshake, monkeypatch):
    ana, session, scope = await handshake(time.time())
    await sync_to_async(cache.set)(_version_key(ana.pk), f"{time.time() - 60:.3f}:old", timeout=None)
    calls = full_checks_counted(monkeypatch)
    gate = AccessGate(scope)
    assert await gate.first_check() == "ok"
    assert calls == []
    assert gate.valid_until == pytest.approx(min(session.expire_date.timestamp(), scope["auth_read_at"] + 300))
    assert await gate.check() == "ok" and calls == []  # the version it took is still current


@pytest.mark.parametrize(
    "version",
    [
        None,  # never set, or the cache lost it
        "9f2c",  # made before versions told their time
        "{now:.3f}:new",  # made since the handshake's read (within the clocks' margin)
    ],
)
async def test_a_first_check_is_full_unless_the_version_predates_the_handshake(handshake, monkeypatch, version):
    ana, _session, scope = await handshake(time.time())
    key = _version_key(ana.pk)
    if version is None:
        await sync_to_async(cache.delete)(key)
    else:
        await sync_to_async(cache.set)(key, version.format(now=time.time()), timeout=None)
    calls = full_checks_counted(monkeypatch)
    assert await AccessGate(scope).first_check() == "ok"
    assert len(calls) == 1


async def test_a_log_out_after_the_handshake_is_caught_by_the_first_check(handshake):
    ana, session, scope = await handshake(time.time() - 60)
    await sync_to_async(cache.set)(_version_key(ana.pk), f"{time.time() - 3600:.3f}:old", timeout=None)
    # The log-out deletes the session; once committed, the version is made anew (chat.signals).
    await database_sync_to_async(Session.objects.filter(session_key=session.session_key).delete)()
    assert await AccessGate(scope).first_check() == "session"
