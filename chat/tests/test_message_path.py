"""The message path's cheaper parts (the performance issue): messages posted at once are
numbered without a gap or a twin on every database (one statement on PostgreSQL,
chat.message_store), an archived room still refuses, and posting limits kept in memory still
count while sweeping without a thread per key, and a socket's service sends from the loop."""

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from unittest import mock

import channels.consumer
import pytest
from asgiref.sync import sync_to_async
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection, transaction

from chat import broadcasts, fragments, ratelimits
from chat.changes import changes_missed
from chat.consumers import room_log
from chat.forms import MessageForm
from chat.memberships import membership_join
from chat.message_store import one_statement_store
from chat.messages import ARCHIVED, message_create
from chat.models import Membership, Message, Room
from chat.rooms import room_archive, room_get_or_create
from chat.selectors import room_seqs
from chat.tests.support import add_message, post_frame, sync_frame


@pytest.mark.django_db(transaction=True)
def test_messages_posted_at_once_take_every_seq_once_and_group_against_the_one_before(make_user):
    """Sixteen posts from four threads (four connections) to one room: seqs 1..16 with no gap or
    twin, the room's last seq and each author's read marker at their newest, and each message's
    grouping read against the message stored just before it."""
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers: one connection at a time")
    room = room_get_or_create(name="Busy")[0]
    authors = [make_user(f"writer{n}") for n in range(4)]
    for author in authors:
        membership_join(room=room, user=author)
    lines = []

    def post(author, n: int) -> None:
        try:
            message_create(room=room, author=author, body=f"{author.username} {n}")
        finally:
            close_old_connections()

    broadcast = mock.patch("chat.broadcasts.message_broadcast", side_effect=lambda line, **_: lines.append(line))
    with broadcast, ThreadPoolExecutor(4) as pool:
        list(pool.map(post, [a for a in authors for _ in range(4)], range(16)))

    stored = list(Message.objects.filter(room=room).order_by("seq"))
    assert [m.seq for m in stored] == list(range(1, 17))
    assert Room.objects.get(pk=room.pk).last_seq == 16
    for author in authors:
        newest = max(m.seq for m in stored if m.author_id == author.pk)
        assert Membership.objects.get(room=room, user=author).last_read_seq == newest
    by_seq = {line.message.seq: line for line in lines}
    assert sorted(by_seq) == list(range(1, 17))
    for before, message in zip(stored, stored[1:], strict=False):
        line = by_seq[message.seq]
        assert (line.previous_author_id, line.previous_at) == (before.author_id, before.created_at)
        assert line.continued == (before.author_id == message.author_id)


@pytest.mark.django_db
def test_an_archived_room_refuses_a_message_and_stores_nothing(make_user):
    """Archived after the socket read the room: the database's row is what refuses."""
    ana = make_user("ana")
    room = room_get_or_create(name="Old")[0]
    membership_join(room=room, user=ana)
    room_archive(room=Room.objects.get(pk=room.pk))
    with pytest.raises(ValidationError) as refused:
        message_create(room=room, author=ana, body="hello")
    assert refused.value.messages == [str(ARCHIVED)]
    assert not Message.objects.filter(room=room).exists()
    assert Room.objects.get(pk=room.pk).last_seq == 0


@pytest.mark.django_db
def test_on_postgresql_a_plain_message_is_one_statement(make_user):
    """One statement stores it (BEGIN and COMMIT included elsewhere: here a savepoint pair,
    as in any caller's transaction); the push's display name is read once a minute."""
    if not one_statement_store():
        pytest.skip("PostgreSQL only")
    from django.test.utils import CaptureQueriesContext

    ana = make_user("ana")
    room = room_get_or_create(name="Quick")[0]
    membership_join(room=room, user=ana)
    message_create(room=room, author=ana, body="first")  # reads ana's display name
    with CaptureQueriesContext(connection) as queries:
        message = message_create(room=room, author=ana, body="second")
    statements = [q["sql"] for q in queries if not q["sql"].upper().startswith(("SAVEPOINT", "RELEASE"))]
    assert len(statements) == 1
    assert (message.seq, Message.objects.get(pk=message.pk).body) == (2, "second")


def test_posting_limits_in_memory_still_count_and_sweep_without_a_thread(settings):
    """The in-memory posting limits refuse the post over the limit, forget expired entries at
    a sweep, and never hop to a thread to do it."""
    settings.CHAT_MESSAGE_RATE_LIMITS = "2/second"
    settings.REDIS_URL = ""

    async def scenario() -> tuple[list[bool], int]:
        await ratelimits.message_rate_limits_reset()
        allowed = []
        for _ in range(3):
            allowed.append(await ratelimits.message_rate_allowed(7))
            if allowed[-1]:
                await ratelimits.message_rate_count(7)
        limiter, _limits = ratelimits._limiter()
        storage = limiter.storage
        for events in storage.events.values():  # as if the window had passed
            for entry in events:
                entry.expiry = 0
        storage.swept_at = 0.0
        await ratelimits.message_rate_count(7)  # swept first, then counted
        for _ in range(3):
            await asyncio.sleep(0)  # anything the storage scheduled runs
        return allowed, [len(events) for events in storage.events.values()]

    hops = []
    with mock.patch("asyncio.to_thread", side_effect=lambda *args: hops.append(args)):
        allowed, entries = asyncio.run(scenario())
    assert allowed == [True, True, False]
    assert entries == [1]
    assert hops == []


@pytest.mark.django_db(transaction=True)
async def test_a_sockets_service_sends_what_it_committed_from_the_loop_after_the_thread(make_user, monkeypatch):
    """broadcasts.sends_from_loop: the group sends of a service run on the thread pool are made
    by the loop once it returns, in their order, not from the thread; a change rolled back sends
    nothing; outside it, a service still sends at once."""
    sent = []

    async def group_send(group, event):
        sent.append((group, event["type"], "in the thread" if calls else "after it"))
        return True

    monkeypatch.setattr(broadcasts, "group_send", group_send)
    calls = []

    def service(fail: bool) -> int:
        calls.append(1)
        with transaction.atomic():
            transaction.on_commit(lambda: broadcasts.sidebar_refresh(user_id=1))
            transaction.on_commit(lambda: broadcasts.user_sockets_check(user_id=2))
            if fail:
                raise ValidationError("refused")
        calls.pop()
        return 7

    assert await broadcasts.sends_from_loop(service)(False) == 7
    assert sent == [("user.1", "sidebar.refresh", "after it"), ("user.2", "access.check", "after it")]
    sent.clear()
    with pytest.raises(ValidationError):
        await broadcasts.sends_from_loop(service)(True)
    assert sent == []
    calls.clear()
    await sync_to_async(service, thread_sensitive=False)(False)
    assert [where for *_, where in sent] == ["in the thread", "in the thread"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_in_memory_layer")
async def test_a_sync_with_nothing_missed_reads_the_rooms_numbers_and_nothing_else(lobby_sockets, monkeypatch):
    """A page's periodic sync (every CHAT_SYNC_SECONDS per socket): the room's newest seq and
    change number in one query; no read of messages or changes, and no marker UPDATE, when
    nothing was missed and the cursor has not moved. A missed message is still sent."""

    room, (ana,) = await lobby_sockets("ana")
    await ana.send_to(text_data=sync_frame(0))
    await ana.settle()
    calls = []
    for name in ("read_missed", "read_changes", "mark_read"):
        real = getattr(room_log, name)
        monkeypatch.setattr(
            room_log, name, lambda *a, _real=real, _name=name, **kw: calls.append(_name) or _real(*a, **kw)
        )
    await ana.send_to(text_data=sync_frame(0))
    await ana.settle()
    assert calls == []  # given the change number, nothing to read: no thread hop (changes_none)
    await sync_to_async(add_message)(room, ana.user, "missed while away")  # stored, not pushed
    await ana.send_to(text_data=sync_frame(0))
    assert "missed while away" in "".join(await ana.frames_so_far())
    assert calls == ["read_missed", "mark_read"]


@pytest.mark.django_db
def test_changes_missed_given_the_rooms_change_number_reads_nothing_when_nothing_changed(django_assert_num_queries):

    room = room_get_or_create(name="Quiet")[0]
    with django_assert_num_queries(0):
        assert changes_missed(room=room, after=0, upto=3, last=0).lines == []
    with django_assert_num_queries(1):
        assert changes_missed(room=room, after=0, upto=3).last == 0


def test_the_answer_to_a_stored_message_is_a_fresh_key_each_time_rendered_once():

    fragments._fresh_key_answers.clear()
    keys = [uuid.uuid4(), uuid.uuid4()]
    answers = [fragments.composer_answer(key=key) for key in keys]
    assert len(fragments._fresh_key_answers) == 1
    for key, answer in zip(keys, answers, strict=True):
        assert f'value="{key}"' in answer and 'id="id_key"' in answer and fragments._KEY_SLOT not in answer
    assert answers[0] != answers[1]
    # The same bytes as the composer's key rendered from a fresh form.
    form = MessageForm(initial={"key": keys[0]})
    assert fragments._render(fragments.COMPOSER_ANSWER, {"form": form}) == answers[0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_in_memory_layer")
async def test_a_socket_connects_and_sends_without_channels_per_event_thread_hop(lobby_sockets, monkeypatch):
    """Channels closes stale database connections before every handler, a thread hop each; chat
    sockets reach the database only through database_sync_to_async, which closes them on its
    own thread, so no handler takes it: not to connect, sync, post or receive."""

    hops = []

    async def counted():
        hops.append(1)

    monkeypatch.setattr(channels.consumer, "aclose_old_connections", counted)
    _room, (ana, bea) = await lobby_sockets("ana", "bea")
    await ana.send_to(text_data=post_frame("hello"))
    await bea.frames_before("hello")  # the message reached the other reader
    assert hops == []


@pytest.mark.django_db
def test_room_seqs_reads_the_rooms_two_numbers_in_one_query(django_assert_num_queries):
    room = room_get_or_create(name="Counted")[0]
    Room.objects.filter(pk=room.pk).update(last_seq=7, last_change_seq=3)
    with django_assert_num_queries(1):
        assert room_seqs(room.pk) == (7, 3)
    with pytest.raises(Room.DoesNotExist):
        room_seqs(room.pk + 1000)
