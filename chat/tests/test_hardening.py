"""Regressions from the attacker's probe (the hardening issue): access that ends ends the socket,
whatever ended it; floods and hostile frames are contained; lists and creations are bounded."""

import asyncio
import datetime
import json
import uuid

import pytest
from channels.db import database_sync_to_async
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.ratelimits import rate_limits_reset
from chat import access
from chat.composer import TOO_FAST
from chat.forms import UNSTORABLE
from chat.memberships import membership_invite, membership_remove
from chat.messages import OTHER_ROOM
from chat.models import Membership, Message, Room
from chat.ratelimits import message_rate_limits_reset
from chat.rooms import room_archive, room_create_private, room_get_or_create
from chat.tests.support import ChatSocket, join, logged_in, open_socket, post_frame, session_cookie, sync_frame
from site_config.asgi import application

pytestmark = [
    pytest.mark.security,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_in_memory_layer"),
]


@pytest.fixture(autouse=True)
async def no_rate_counts_left():
    await message_rate_limits_reset()


async def closed_with(socket, timeout: float = 2) -> int | None:
    """Read `socket`'s output until it closes; its close code (None if it stays open)."""
    try:
        while True:
            output = await socket.receive_output(timeout)
            if output["type"] == "websocket.close":
                return output.get("code")
    except TimeoutError:
        return None


async def next_frames(socket, count: int = 2) -> str:
    """The next `count` frames, joined: a sender gets its composer back and its message pushed,
    in either order."""
    return "".join([await socket.receive_from() for _ in range(count)])


async def sockets_sharing(path: str, cookie: bytes, count: int) -> list:
    """Start opening `count` sockets at `path` with the same session cookie, all at once."""

    async def connect():
        socket = ChatSocket(application, path, headers=[(b"origin", b"http://localhost"), (b"cookie", cookie)])
        await socket.connect()
        return socket

    return [asyncio.create_task(connect()) for _ in range(count)]


async def test_no_socket_survives_a_log_out_made_while_it_was_connecting(make_user):
    """Twelve sockets connecting while their session logs out: every one ends with 4001, and
    none of them can store a message after the log-out."""
    ana = await database_sync_to_async(make_user)("ana")
    await database_sync_to_async(room_get_or_create)(name="Lobby")
    client = Client()
    cookie = await database_sync_to_async(session_cookie)(ana, client)
    tasks = await sockets_sharing("/ws/chat/lobby/", cookie, 12)
    await asyncio.sleep(0.01)
    await database_sync_to_async(client.post)("/accounts/logout/")
    sockets = await asyncio.gather(*tasks)
    for socket in sockets:
        await socket.send_to(text_data=sync_frame(0))
        await socket.send_to(text_data=post_frame("after the log-out"))
    codes = [await closed_with(socket) for socket in sockets]
    assert codes == [4001] * 12
    assert not await Message.objects.filter(author=ana).aexists()
    await asyncio.gather(*(socket.disconnect() for socket in sockets))  # as a browser does: no app left to cancel


async def test_no_socket_survives_a_removal_made_while_it_was_connecting(make_user):
    """Twelve of Bea's sockets connecting to a private room while she is removed: all end."""
    ana, bea = await database_sync_to_async(make_user)("ana"), await database_sync_to_async(make_user)("bea")
    plans = await database_sync_to_async(room_create_private)(name="Plans", creator=ana)
    await database_sync_to_async(membership_invite)(room=plans, inviter=ana, username="bea")
    cookie = await database_sync_to_async(session_cookie)(bea)
    tasks = await sockets_sharing(f"/ws/chat/{plans.slug}/", cookie, 12)
    await asyncio.sleep(0.01)
    await database_sync_to_async(membership_remove)(room=plans, remover=ana, user=bea)
    sockets = await asyncio.gather(*tasks)
    for socket in sockets:
        await socket.send_to(text_data=sync_frame(0))
    codes = [await closed_with(socket) for socket in sockets]
    assert all(code in (4003, 4004) for code in codes), codes
    await asyncio.gather(*(socket.disconnect() for socket in sockets))


async def test_an_expired_session_ends_its_socket_at_the_next_frame(make_user, monkeypatch):
    """A session whose time is up (no event tells anyone) is noticed at the socket's next frame."""
    ana = await database_sync_to_async(make_user)("ana")
    await database_sync_to_async(room_get_or_create)(name="Lobby")
    anas = await join("lobby", ana)
    past = timezone.now() - datetime.timedelta(seconds=1)
    await Session.objects.all().aupdate(expire_date=past)
    monkeypatch.setattr(access.time, "time", lambda: past.timestamp() + 10**6)  # the gate's expiry has passed
    await anas.send_to(text_data=sync_frame(0))
    assert await closed_with(anas) == 4001


async def test_a_deleted_session_ends_its_socket(make_user):
    """`clearsessions` (or any deletion of the session row) ends the sockets of that session."""
    ana = await database_sync_to_async(make_user)("ana")
    await database_sync_to_async(room_get_or_create)(name="Lobby")
    anas = await join("lobby", ana)
    await Session.objects.all().aupdate(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    await database_sync_to_async(call_command)("clearsessions")
    assert await closed_with(anas) == 4001


async def test_typing_floods_reach_others_once_per_interval_and_never_from_archived_rooms(make_user):
    ana, bea = await database_sync_to_async(make_user)("ana"), await database_sync_to_async(make_user)("bea")
    lobby = (await database_sync_to_async(room_get_or_create)(name="Lobby"))[0]
    beas, anas = await join("lobby", bea), await join("lobby", ana)
    for _ in range(30):
        await anas.send_to(text_data=json.dumps({"typing": True}))
    await anas.send_to(text_data=post_frame("barrier"))
    frames = []
    while not any("barrier" in frame for frame in frames):
        frames.append(await beas.receive_from())
    assert sum('id="typing"' in frame and "ana is typing" in frame for frame in frames) == 1

    await database_sync_to_async(room_archive)(room=lobby)
    assert "Archived" in await beas.receive_from()
    await asyncio.sleep(3)  # past the typing interval
    await anas.send_to(text_data=json.dumps({"typing": True}))
    assert await beas.receive_nothing(timeout=0.3)
    await anas.disconnect()
    await beas.disconnect()


async def test_a_frame_flood_closes_that_socket_with_1008_and_no_other(make_user):
    ana, bea = await database_sync_to_async(make_user)("ana"), await database_sync_to_async(make_user)("bea")
    await database_sync_to_async(room_get_or_create)(name="Lobby")
    beas, anas = await join("lobby", bea), await join("lobby", ana)
    for _ in range(200):
        await anas.send_to(text_data="junk")
    assert await closed_with(anas) == 1008
    await beas.send_to(text_data=post_frame("still here"))
    assert "still here" in await next_frames(beas)
    await beas.disconnect()


@pytest.mark.parametrize(
    "hostile",
    ["[" * 20000, json.dumps({"message": "a\ud800b", "key": str(uuid.uuid4())}), json.dumps({"after": "9" * 400})],
    ids=["nested", "lone-surrogate", "huge-seq"],
)
async def test_hostile_frames_are_answered_or_ignored_and_the_socket_stays(make_user, hostile):
    ana = await database_sync_to_async(make_user)("ana")
    await database_sync_to_async(room_get_or_create)(name="Lobby")
    anas = await join("lobby", ana)
    await anas.send_to(text_data=hostile)
    if "surrogate" in hostile or "\\ud800" in hostile:
        assert str(UNSTORABLE) in await anas.receive_from()
    await anas.send_to(text_data=post_frame("fine"))
    assert "fine" in await next_frames(anas)
    assert await Message.objects.acount() == 1
    await anas.disconnect()


async def test_a_handler_that_raises_answers_nothing_and_keeps_the_socket(make_user, monkeypatch):
    ana = await database_sync_to_async(make_user)("ana")
    await database_sync_to_async(room_get_or_create)(name="Lobby")
    anas = await join("lobby", ana)

    raised = asyncio.Event()

    async def broken(**kwargs):
        raised.set()
        raise RuntimeError("a bug")

    with monkeypatch.context() as patch:
        patch.setattr("chat.composer.composer_submit", broken)
        await anas.send_to(text_data=post_frame("boom"))
        await asyncio.wait_for(raised.wait(), 2)
    await anas.send_to(text_data=post_frame("after"))
    assert "after" in await next_frames(anas)
    await anas.disconnect()


@pytest.mark.parametrize(
    "error",
    [
        ConnectionResetError("client disconnected"),
        RuntimeError("Unexpected ASGI message 'websocket.send', after sending 'websocket.close'."),
    ],
)
async def test_a_push_to_a_client_gone_mid_send_is_no_error(make_user, monkeypatch, caplog, error):
    """uvicorn raises ClientDisconnected (an OSError) when a push meets a client that has just
    gone, and a RuntimeError when the socket's close was already sent (the server shutting
    down): logged as the socket gone, not as a handler that raised (a shutdown is no fault)."""
    ana = await database_sync_to_async(make_user)("ana")
    room = (await database_sync_to_async(room_get_or_create)(name="Lobby"))[0]
    anas = await join(room.slug, ana)
    sent = asyncio.Event()

    async def gone(self, **kwargs):
        sent.set()
        raise error

    with monkeypatch.context() as patch:
        patch.setattr("chat.consumers.room.RoomConsumer.send", gone)
        await anas.send_to(text_data=post_frame("hola"))
        await asyncio.wait_for(sent.wait(), 2)  # the handler raised and was answered before this returns
    assert "socket gone during" in caplog.text and "handler raised" not in caplog.text
    await anas.disconnect()


async def test_an_outsider_cannot_tell_a_private_room_from_a_missing_one(make_user):
    ana, cy = await database_sync_to_async(make_user)("ana"), await database_sync_to_async(make_user)("cy")
    plans = await database_sync_to_async(room_create_private)(name="Plans", creator=ana)
    assert plans.slug.startswith("p-") and "plans" not in plans.slug
    codes = []
    for slug in (plans.slug, "p-000000000000"):
        socket, connected = await open_socket(slug, cy)
        codes.append((await socket.receive_output())["code"])
    assert codes == [4004, 4004]


def test_removing_someone_who_is_not_a_member_is_a_404_that_names_no_one(make_user):
    ana, cy = make_user("ana"), make_user("cyrano-outsider")
    plans = room_create_private(name="Plans", creator=ana)
    response = logged_in(ana).post(f"/chat/{plans.slug}/members/{cy.pk}/remove/")
    assert response.status_code == 404 and b"cyrano-outsider" not in response.content


def test_a_public_rooms_members_can_leave_but_not_be_removed(make_user):
    ana, bea = make_user("ana"), make_user("bea")
    lobby = room_get_or_create(name="Lobby", creator=ana)[0]
    Membership.objects.create(room=lobby, user=bea)
    assert logged_in(ana).post(f"/chat/lobby/members/{bea.pk}/remove/").status_code == 403
    assert logged_in(bea).post(f"/chat/lobby/members/{bea.pk}/remove/").status_code == 302
    assert not Membership.objects.filter(room=lobby, user=bea).exists()


def test_archived_rooms_accept_no_invitations(make_user):
    ana, _bea = make_user("ana"), make_user("bea")
    plans = room_archive(room=room_create_private(name="Plans", creator=ana))
    logged_in(ana).post(f"/chat/{plans.slug}/invite/", {"username": "bea"})
    assert not Membership.objects.filter(room=plans, user__username="bea").exists()


async def test_refused_attempts_do_not_count_and_a_resend_over_the_limit_is_delivered(make_user, settings):
    settings.CHAT_MESSAGE_RATE_LIMITS = "3/minute"
    ana = await database_sync_to_async(make_user)("ana")
    await database_sync_to_async(room_get_or_create)(name="Lobby")
    anas = await join("lobby", ana)
    for _ in range(5):
        await anas.send_to(text_data=post_frame("   "))
        assert "Type a message" in await anas.receive_from()
    keys = [str(uuid.uuid4()) for _ in range(3)]
    for number, key in enumerate(keys):
        await anas.send_to(text_data=post_frame(f"m{number}", key))
        answer = await next_frames(anas)  # the message pushed, the composer reset
        assert f"m{number}" in answer and "is-invalid" not in answer
    await anas.send_to(text_data=post_frame("m2", keys[2]))  # a resend, over the limit
    assert "is-invalid" not in await anas.receive_from()
    await anas.send_to(text_data=post_frame("m3"))
    assert str(TOO_FAST) in await anas.receive_from()
    assert await Message.objects.acount() == 3
    await anas.disconnect()


def test_a_composer_key_used_in_another_room_is_refused_clearly(make_user):
    from chat.messages import message_create

    ana = make_user("ana")
    lobby, kitchen = room_get_or_create(name="Lobby")[0], room_get_or_create(name="Kitchen")[0]
    key = uuid.uuid4()
    message_create(room=lobby, author=ana, body="hi", client_key=key)
    with pytest.raises(Exception) as refused:
        message_create(room=kitchen, author=ana, body="hi", client_key=key)
    assert str(OTHER_ROOM) in str(refused.value) and not kitchen.messages.exists()


@pytest.mark.parametrize("invisible", ["\u200b\u200b", "\u202e", " \u2060 ", "\u0301"])
def test_invisible_only_text_is_blank(invisible):
    from chat.forms import MessageForm

    form = MessageForm({"message": invisible, "key": uuid.uuid4()})
    assert not form.is_valid() and "Type a message" in str(form.errors)


def test_bidirectional_text_is_isolated_in_the_bubble(make_user):
    from chat.messages import message_create

    ana = make_user("ana")
    lobby = room_get_or_create(name="Lobby")[0]
    message_create(room=lobby, author=ana, body="\u202eevil")
    page = logged_in(ana).get("/chat/lobby/").content.decode()
    # The body, formatted, is a <div> of blocks (chat.formatting), still isolated by dir="auto".
    assert '<div class="message-body" dir="auto"><p>\u202eevil</p>' in page
    assert '<bdi class="message-author">ana</bdi>' in page


async def test_opening_a_public_rooms_page_does_not_join_it_its_socket_does(make_user):
    ana = await database_sync_to_async(make_user)("ana")
    lobby = (await database_sync_to_async(room_get_or_create)(name="Lobby"))[0]
    client = await database_sync_to_async(logged_in)(ana)
    assert (await database_sync_to_async(client.get)("/chat/lobby/")).status_code == 200
    assert not await Membership.objects.filter(room=lobby, user=ana).aexists()
    anas = await join("lobby", ana)
    assert await Membership.objects.filter(room=lobby, user=ana).aexists()
    await anas.disconnect()


def test_the_room_index_is_paginated_and_searchable(make_user):
    ana = make_user("ana")
    Room.objects.bulk_create(Room(name=f"Room {n}", name_key=f"room {n}", slug=f"room-{n}") for n in range(60))
    index = logged_in(ana).get("/chat/").content.decode()
    assert index.count('class="list-group-item d-flex') == 50 and "Page 1 of 2" in index
    found = logged_in(ana).get("/chat/?q=ROOM 59").content.decode()
    assert found.count('class="list-group-item d-flex') == 1


def test_room_creation_is_rate_limited_per_user(make_user, settings):
    settings.CHAT_ROOM_CREATE_RATE_LIMITS = "2/hour"
    rate_limits_reset()  # counts live in Redis across runs, and user ids repeat
    ana = make_user("ana")
    client = logged_in(ana)
    names = [f"Room {uuid.uuid4().hex[:8]}" for _ in range(3)]
    statuses = [
        client.post("/chat/", {"name": name}, REMOTE_ADDR=f"10.0.0.{n}").status_code for n, name in enumerate(names)
    ]
    assert statuses == [302, 302, 200] and Room.objects.filter(name__in=names).count() == 2
