"""A page's first sync, right after its socket connected: it knows the room's newest seq and change
number without a query (the admission's read, taken after the room's groups were joined, and the
events since), writes no read marker the reader already has, and still misses nothing."""

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async

from chat import broadcasts
from chat.consumers import room_log
from chat.consumers.base import CLOSE_ROOM_NOT_FOUND
from chat.hub import hub
from chat.memberships import membership_join
from chat.messages import message_create
from chat.models import Membership, Room
from chat.rooms import room_get_or_create
from chat.tests.support import add_message, open_socket, sync_frame

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_in_memory_layer")]


@pytest.fixture
def socket_reads(monkeypatch) -> list[str]:
    """The names of the room socket's database reads and marker moves, in order, as they are made."""
    calls = []
    for name in ("read_seqs", "read_missed", "read_changes", "mark_read"):
        real = getattr(room_log, name)
        counted = lambda *a, _real=real, _name=name, **kw: calls.append(_name) or _real(*a, **kw)  # noqa: E731
        monkeypatch.setattr(room_log, name, counted)
    return calls


async def connected(room, user):
    """A socket of `user` on `room`'s page that has received its "Connected" status (no sync yet)."""
    socket, ok = await open_socket(room.slug, user)
    assert ok and "Connected" in await socket.receive_from()
    return socket


async def test_the_first_sync_of_a_page_with_everything_reads_and_writes_nothing(make_user, socket_reads):
    """A page holding the room's newest message, read up to it: its first sync takes no query and
    no marker UPDATE. Its next sync (the heartbeat, every CHAT_SYNC_SECONDS) reads the room's
    numbers, as every later one does."""
    ana = await database_sync_to_async(make_user)("ana")
    room = (await database_sync_to_async(room_get_or_create)(name="Lobby"))[0]
    await database_sync_to_async(membership_join)(room=room, user=ana)
    for text in ("uno", "dos"):
        await sync_to_async(add_message)(room, ana, text)
    await Membership.objects.filter(room=room, user=ana).aupdate(last_read_seq=2)
    anas = await connected(room, ana)
    await anas.send_to(text_data=sync_frame(2))
    await anas.settle()
    assert socket_reads == []
    await anas.send_to(text_data=sync_frame(2))
    await anas.settle()
    assert socket_reads == ["read_seqs"]
    await anas.disconnect()


async def test_a_message_committed_after_the_admission_and_before_the_first_sync_is_sent_once(make_user, socket_reads):
    """Lobby's message arrives as an event before the page's first sync (its group was joined
    before the admission's read, which does not have it): the sync catches it up, once, with
    no read of the room's numbers. A message in another room of Ana's is the barrier: the
    hub hands events on in the order they were sent."""
    ana, bea = await database_sync_to_async(make_user)("ana"), await database_sync_to_async(make_user)("bea")
    room = (await database_sync_to_async(room_get_or_create)(name="Lobby"))[0]
    cafe = (await database_sync_to_async(room_get_or_create)(name="Café"))[0]
    for someone in (ana, bea):
        for each in (room, cafe):
            await database_sync_to_async(membership_join)(room=each, user=someone)
    anas = await connected(room, ana)
    await database_sync_to_async(message_create)(room=room, author=bea, body="in between")
    await database_sync_to_async(message_create)(room=cafe, author=bea, body="barrier")
    before = await anas.frames_before(f'id="sidebar-room-{cafe.pk}"', side=True)
    assert all("in between" not in frame for frame in before)
    await anas.send_to(text_data=sync_frame(0))
    frames = "".join(await anas.frames_so_far())
    assert frames.count("in between") == 1
    assert "read_seqs" not in socket_reads and "read_missed" in socket_reads
    await anas.disconnect()


async def test_a_refused_socket_leaves_the_groups_it_joined_before_its_admission(make_user):
    """Ana opens a private room's page she is not in: refused as if there were no such room, and
    in none of its groups (the room's news never reaches her socket)."""
    ana = await database_sync_to_async(make_user)("ana")
    secret = await Room.objects.acreate(name="Secret", slug="secret", is_private=True)
    anas, ok = await open_socket(secret.slug, ana)
    assert ok and await anas.receive_output() == {"type": "websocket.close", "code": CLOSE_ROOM_NOT_FOUND}
    for group in (broadcasts.members_group(secret), broadcasts.page_group(secret)):
        assert not hub().groups.get(group)
    await anas.disconnect()


async def test_a_slug_no_room_could_have_joins_no_group_and_is_refused(make_user):
    """A slug longer than any room's would make a group name the channel layer refuses: it is
    not tried (the layer is not taken for away), and the socket is refused as for no room."""
    ana = await database_sync_to_async(make_user)("ana")
    slug = "x" * 120
    anas, ok = await open_socket(slug, ana)
    assert ok and await anas.receive_output() == {"type": "websocket.close", "code": CLOSE_ROOM_NOT_FOUND}
    assert not hub().groups.get(broadcasts.members_group(slug)) and not broadcasts.layer_breaker.failing
    await anas.disconnect()
