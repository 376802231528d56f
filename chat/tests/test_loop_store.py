"""A socket's message stored from its event loop on PostgreSQL (chat.messages.message_create_async,
chat.message_store.message_store_async): no thread for a plain message by an author whose name
is known; the thread pool's way, with the same result, for everything else (the loop's
connection busy or failing, a resend, an archived room, a mention, another database)."""

import asyncio
import uuid
from unittest import mock

import psycopg
import pytest
from channels.db import database_sync_to_async
from django.core.exceptions import ValidationError

from chat import broadcasts, message_store
from chat.memberships import membership_join
from chat.messages import ARCHIVED, message_create_async
from chat.models import Message, Room
from chat.rooms import room_archive, room_get_or_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_in_memory_layer")]


@pytest.fixture(autouse=True)
def postgresql_only():
    if not message_store.one_statement_store():
        pytest.skip("PostgreSQL only: other databases always take the thread pool's way")


@pytest.fixture
async def lobby(make_user):
    """The room Lobby and its member ana, and a list of the posts that took the thread pool."""
    ana = await database_sync_to_async(make_user)("ana")
    room = await database_sync_to_async(lambda: room_get_or_create(name="Lobby")[0])()
    await database_sync_to_async(membership_join)(room=room, user=ana)
    in_thread = []
    real = broadcasts.sends_from_loop

    def counted(function):
        run = real(function)

        async def counting(*args, **kwargs):
            in_thread.append(kwargs["body"])
            return await run(*args, **kwargs)

        return counting

    with mock.patch.object(broadcasts, "sends_from_loop", counted):
        yield room, ana, in_thread


async def stored(room) -> list[tuple[int, str]]:
    rows = Message.objects.filter(room=room).order_by("seq").values_list("seq", "body")
    return await database_sync_to_async(list)(rows)


async def test_a_plain_message_is_stored_and_pushed_from_the_loop_once_the_authors_name_is_known(lobby):
    room, ana, in_thread = lobby
    pushed = []
    real_send = broadcasts.group_send

    async def group_send(group, event):
        pushed.append((event["type"], event.get("seq")))
        return await real_send(group, event)

    with mock.patch.object(broadcasts, "group_send", group_send):
        first = await message_create_async(room=room, author=ana, body="first")  # reads ana's name
        second = await message_create_async(room=room, author=ana, body="second", client_key=uuid.uuid4())
    assert in_thread == ["first"]
    assert (first.seq, second.seq) == (1, 2) and second.pk
    assert await stored(room) == [(1, "first"), (2, "second")]
    assert pushed == [("chat.message", 1), ("chat.message", 2)]
    read = await database_sync_to_async(lambda: ana.memberships.get(room=room).last_read_seq)()
    assert read == 2  # the author's marker moved to their message, as message_create does


async def test_a_busy_or_failing_loop_connection_a_resend_and_an_archived_room_take_the_thread(lobby):
    room, ana, in_thread = lobby
    await message_create_async(room=room, author=ana, body="first")  # reads ana's name
    await message_create_async(room=room, author=ana, body="from the loop")
    kept = message_store._loop_connections[asyncio.get_running_loop()]
    assert len(kept) == 1  # one message at a time needs one connection
    kept += [message_store._LoopConnection() for _ in range(message_store.LOOP_CONNECTIONS - 1)]
    for held in kept:
        held.busy = True
    await message_create_async(room=room, author=ana, body="while busy")
    for held in kept:
        held.busy = False
    with mock.patch.object(psycopg.AsyncCursor, "execute", side_effect=psycopg.OperationalError("gone")):
        await message_create_async(room=room, author=ana, body="database away")
    key = uuid.uuid4()
    once = await message_create_async(room=room, author=ana, body="sent twice", client_key=key)
    again = await message_create_async(room=room, author=ana, body="sent twice", client_key=key)
    assert again.pk == once.pk  # the resend is the message stored, not a second one
    assert in_thread == ["first", "while busy", "database away", "sent twice"]
    assert [body for _seq, body in await stored(room)] == [
        "first",
        "from the loop",
        "while busy",
        "database away",
        "sent twice",
    ]

    await database_sync_to_async(room_archive)(room=await database_sync_to_async(Room.objects.get)(pk=room.pk))
    with pytest.raises(ValidationError) as refused:
        await message_create_async(room=room, author=ana, body="too late")
    assert refused.value.messages == [str(ARCHIVED)]
    assert len(await stored(room)) == 5


async def test_messages_stored_at_once_take_the_loops_connections_in_commit_order(lobby):
    """Three messages stored at once in one room: each on a connection of the loop's own (none on
    a thread), numbered 1..n as their statements committed, each pushed once."""
    room, ana, in_thread = lobby
    await message_create_async(room=room, author=ana, body="first")  # reads ana's name
    pushed = []
    real_send = broadcasts.group_send

    async def group_send(group, event):
        pushed.append(event["seq"])
        return await real_send(group, event)

    with mock.patch.object(broadcasts, "group_send", group_send):
        at_once = await asyncio.gather(*(message_create_async(room=room, author=ana, body=f"m{i}") for i in range(3)))
    assert in_thread == ["first"]
    assert sorted(message.seq for message in at_once) == [2, 3, 4] and sorted(pushed) == [2, 3, 4]
    assert len(message_store._loop_connections[asyncio.get_running_loop()]) == 3
    assert [seq for seq, _body in await stored(room)] == [1, 2, 3, 4]


async def test_a_mention_takes_the_thread(lobby):
    room, ana, in_thread = lobby
    await message_create_async(room=room, author=ana, body="first")
    await message_create_async(room=room, author=ana, body="hello @ana")
    assert in_thread == ["first", "hello @ana"]
