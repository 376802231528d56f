"""The room socket: who may open it, what a message does, what is refused, and typing."""

import re
import uuid

import pytest
from channels.db import database_sync_to_async

from chat.consumers import CLOSE_NOT_AUTHENTICATED, CLOSE_ROOM_NOT_FOUND
from chat.models import Message
from chat.tests.support import create_room, join, open_socket, post_barrier, post_frame

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_in_memory_layer")]


@database_sync_to_async
def messages_in(room):
    return list(room.messages.values_list("author__username", "body"))


async def receive_push_and_composer(socket) -> tuple[str, str]:
    """The sender's next two frames after a valid message, in whichever order they came: the
    room's push (to everyone) and the fresh composer (to the sender only). Any other frame
    fails, so they are a barrier for whatever the socket's earlier frames caused (support.ChatSocket)."""
    frames = [await socket.receive_from(), await socket.receive_from()]
    [push] = [html for html in frames if 'id="messages"' in html]
    [composer] = [html for html in frames if 'id="id_key"' in html]
    return push, composer


async def test_anonymous_socket_is_refused_with_a_code_htmx_does_not_retry():
    """No session: accepted, then closed with 4001."""
    room = await create_room("Lobby")
    communicator, connected = await open_socket(room.slug)
    assert connected
    assert await communicator.receive_output() == {"type": "websocket.close", "code": CLOSE_NOT_AUTHENTICATED}
    await communicator.disconnect()


async def test_socket_for_unknown_room_is_closed_with_4004(make_user):
    """A slug with no room behind it is refused for good."""
    ana = await database_sync_to_async(make_user)("ana")
    communicator, connected = await open_socket("no-such-room", ana)
    assert connected
    assert await communicator.receive_output() == {"type": "websocket.close", "code": CLOSE_ROOM_NOT_FOUND}
    await communicator.disconnect()


async def test_a_members_socket_is_admitted_by_its_sidebar_read_a_newcomer_by_joining(make_user, monkeypatch):
    """A member's room is among the rooms of the sidebar read at connect: no admission read of
    its own. Someone not yet in a public room is admitted by room_admission, which joins them,
    and the first sidebar their socket sends lists the room, current."""
    from chat.consumers import room as room_socket

    admitted = []
    admission = room_socket.room_admission

    async def counted(**kwargs):
        admitted.append(kwargs["slug"])
        return await admission(**kwargs)

    monkeypatch.setattr(room_socket, "room_admission", counted)
    ana = await database_sync_to_async(make_user)("ana")
    room = await create_room("Lobby")
    newcomer, connected = await open_socket(room.slug, ana)
    assert connected
    first = await newcomer.receive_from()
    assert admitted == [room.slug]
    assert f'id="sidebar-room-{room.pk}"' in first and 'aria-current="page"' in first
    await newcomer.disconnect()
    member, connected = await open_socket(room.slug, ana)
    assert connected
    assert f'id="sidebar-room-{room.pk}"' in await member.receive_from()
    assert admitted == [room.slug]  # not read again: the sidebar had it
    await member.disconnect()


async def test_socket_from_foreign_origin_is_refused_and_logged(make_user, caplog):
    """The Origin header must name an allowed host; a refusal leaves a warning in the log."""
    ana = await database_sync_to_async(make_user)("ana")
    room = await create_room("Lobby")
    communicator, connected = await open_socket(room.slug, ana, origin=b"http://evil.example")
    assert not connected
    assert "WebSocket refused: origin 'http://evil.example' is not an allowed host" in caplog.text
    await communicator.disconnect()


async def test_message_posted_is_seen_by_other_member_in_same_room_escaped(lobby_sockets):
    """Bea receives Ana's message as an out-of-band fragment, with the text auto-escaped."""
    _room, (ana, bea) = await lobby_sockets("ana", "bea")

    await ana.send_to(text_data=post_frame("<script>alert(1)</script> hi"))

    pushed = await bea.receive_from()
    [saved] = await database_sync_to_async(list)(Message.objects.all())
    assert 'id="messages" hx-swap-oob="beforeend"' in pushed
    assert f'id="message-{saved.pk}"' in pushed
    assert f'data-author="{ana.user.pk}"' in pushed
    assert "&lt;script&gt;alert(1)&lt;/script&gt; hi" in pushed
    assert "<script>" not in pushed
    assert ">ana<" in pushed


async def test_sender_receives_the_message_and_a_fresh_key_but_not_a_new_composer(lobby_sockets):
    """The sender sees their own message and a fresh key for the composer, alone: the text area
    (reset by the page itself) is not replaced, so nothing typed meanwhile is lost."""
    room, (ana,) = await lobby_sockets("ana")

    sent_key = str(uuid.uuid4())
    await ana.send_to(text_data=post_frame("  hola  ", sent_key))

    pushed, composer = await receive_push_and_composer(ana)
    assert ">hola<" in pushed
    assert "<textarea" not in composer and "hx-swap-oob" not in composer
    [new_key] = re.findall(r'name="key" id="id_key" value="([^"]+)"', composer)
    assert new_key != sent_key and uuid.UUID(new_key)
    assert await messages_in(room) == [("ana", "hola")]


async def test_member_of_another_room_receives_nothing(lobby_sockets, make_user):
    """Groups are per room: Cy, in another room, gets no frame of the lobby's."""
    _lobby, (ana,) = await lobby_sockets("ana")
    other = await create_room("Other")
    cy = await join(other.slug, await database_sync_to_async(make_user)("cy"))

    await ana.send_to(text_data=post_frame("only for the lobby"))
    await receive_push_and_composer(ana)

    assert await cy.frames_before(await post_barrier(other, cy.user)) == []
    await cy.disconnect()


@pytest.mark.parametrize("text", ["", "   ", "x" * 4001], ids=["empty", "blank", "4001-chars"])
async def test_rejected_message_answers_sender_only_and_saves_nothing(lobby_sockets, text):
    """An invalid message gets a card under the sender's composer saying why, and nothing else."""
    room, (ana, bea) = await lobby_sockets("ana", "bea")

    await ana.send_to(text_data=post_frame(text))

    answer = await ana.receive_from()
    assert answer.startswith('<div id="composer-failed" hx-swap-oob="beforeend">')
    assert 'role="alert"' in answer and "Not sent:" in answer
    assert await messages_in(room) == []
    await ana.send_to(text_data=post_frame("valid"))
    pushed, _composer = await receive_push_and_composer(ana)
    assert await bea.frames_before(pushed) == []


async def test_over_long_message_keeps_the_typed_text_in_its_card_to_send_again(lobby_sockets):
    """Nothing typed is lost: the refused message's card holds the text, and its key."""
    _room, (ana,) = await lobby_sockets("ana")
    key = str(uuid.uuid4())

    await ana.send_to(text_data=post_frame("y" * 4001, key))

    answer = await ana.receive_from()
    assert f'<p class="failed-text m-0" dir="auto">{"y" * 4001}</p>' in answer
    assert f'name="message" value="{"y" * 4001}"' in answer and f'id="failed-{key}"' in answer
    assert "at most 4000 characters" in answer


@pytest.mark.parametrize(
    "received",
    [
        {"text": "not json"},
        {"text": "[1, 2]"},
        {"text": '"message"'},
        {"text": "{}"},
        {"text": '{"message": 42}'},
        {"text": '{"message": null}'},
        {"text": '{"HEADERS": {}}'},
        {"bytes": b"\x00\xff"},
    ],
)
async def test_malformed_or_binary_frame_is_ignored_and_socket_stays_open(lobby_sockets, received):
    """A binary frame, or a text frame that is not a JSON object with a string `message`,
    changes nothing: the next message's push and fresh composer are the next frames."""
    room, (ana,) = await lobby_sockets("ana")

    await ana.send_input({"type": "websocket.receive", **received})
    await ana.send_to(text_data=post_frame("still here"))

    pushed, composer = await receive_push_and_composer(ana)
    assert "still here" in pushed and 'role="alert"' not in composer
    assert await messages_in(room) == [("ana", "still here")]


async def test_first_message_of_the_day_pushes_its_day_separator(lobby_sockets):
    """Only the day's first message carries a "Today" separator."""
    _room, (ana,) = await lobby_sockets("ana")

    await ana.send_to(text_data=post_frame("first"))
    first_push, _composer = await receive_push_and_composer(ana)
    await ana.send_to(text_data=post_frame("second"))
    second_push, _composer = await receive_push_and_composer(ana)

    assert 'class="day-separator"' in first_push and "Today" in first_push
    assert first_push.index("day-separator") < first_push.index("first")
    assert "day-separator" not in second_push


async def test_typing_is_shown_to_the_others_in_the_room_not_the_typist(lobby_sockets):
    """A typing frame (the input's, carrying the form's fields too) tells Bea, not Ana, saves
    nothing; Ana's next message clears the indicator."""
    room, (ana, bea) = await lobby_sockets("ana", "bea")

    await ana.send_to(text_data=post_frame("half a thou", typing=True))

    shown = await bea.receive_from()
    assert shown.startswith('<div id="typing"') and "ana is typing…" in shown
    assert await messages_in(room) == []
    await ana.send_to(text_data=post_frame("half a thought"))
    pushed, _composer = await receive_push_and_composer(ana)  # the first frames: no typing news
    assert '<div id="typing" class="typing"></div>' in pushed
    assert await bea.receive_from() == pushed
