import json
import re
import uuid

import pytest
from channels.db import database_sync_to_async

from chat.consumers import CLOSE_NOT_AUTHENTICATED, CLOSE_ROOM_NOT_FOUND
from chat.models import Message
from chat.rooms import room_get_or_create
from chat.tests.support import join, open_socket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_in_memory_layer")]


@database_sync_to_async
def create_room(name):
    return room_get_or_create(name=name)[0]


@database_sync_to_async
def messages_in(room):
    return list(room.messages.values_list("author__username", "body"))


async def receive_push_and_composer(socket) -> tuple[str, str]:
    """The sender's two frames after a valid message, in whichever order they came:
    the room's push (to everyone) and the fresh composer (to the sender only)."""
    frames = [await socket.receive_from(), await socket.receive_from()]
    [push] = [html for html in frames if 'id="messages"' in html]
    [composer] = [html for html in frames if 'id="message-form"' in html]
    return push, composer


def frame(**fields) -> str:
    """A composer frame as htmx's ws extension sends it: the form's fields (a fresh idempotency
    key unless given) plus a HEADERS object."""
    fields.setdefault("key", str(uuid.uuid4()))
    return json.dumps({**fields, "HEADERS": {"HX-Request": "true", "HX-Trigger": "message-form"}})


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


async def test_socket_from_foreign_origin_is_refused_and_logged(make_user, caplog):
    """The Origin header must name an allowed host; a refusal leaves a warning in the log."""
    ana = await database_sync_to_async(make_user)("ana")
    room = await create_room("Lobby")
    communicator, connected = await open_socket(room.slug, ana, origin=b"http://evil.example")
    assert not connected
    assert "WebSocket refused: origin 'http://evil.example' is not an allowed host" in caplog.text
    await communicator.disconnect()


async def test_message_posted_is_seen_by_other_member_in_same_room_escaped(make_user):
    """Bea receives Ana's message as an out-of-band fragment, with the text auto-escaped."""
    ana = await database_sync_to_async(make_user)("ana")
    bea = await database_sync_to_async(make_user)("bea")
    room = await create_room("Lobby")
    ana_socket = await join(room.slug, ana)
    bea_socket = await join(room.slug, bea)

    await ana_socket.send_to(text_data=frame(message="<script>alert(1)</script> hi"))

    pushed = await bea_socket.receive_from()
    [saved] = await database_sync_to_async(list)(Message.objects.all())
    assert 'id="messages" hx-swap-oob="beforeend"' in pushed
    assert f'id="message-{saved.pk}"' in pushed
    assert f'data-author="{ana.pk}"' in pushed
    assert "&lt;script&gt;alert(1)&lt;/script&gt; hi" in pushed
    assert "<script>" not in pushed
    assert ">ana<" in pushed
    await ana_socket.disconnect()
    await bea_socket.disconnect()


async def test_sender_receives_the_message_and_a_fresh_composer(make_user):
    """The sender sees their own message and an empty composer that replaces theirs by id."""
    ana = await database_sync_to_async(make_user)("ana")
    room = await create_room("Lobby")
    ana_socket = await join(room.slug, ana)

    sent_key = str(uuid.uuid4())
    await ana_socket.send_to(text_data=frame(message="  hola  ", key=sent_key))

    pushed, composer = await receive_push_and_composer(ana_socket)
    assert ">hola<" in pushed
    assert "hx-swap-oob" not in composer
    [message_input] = re.findall(r'<input[^>]*name="message"[^>]*>', composer)
    assert "value=" not in message_input
    [new_key] = re.findall(r'name="key" value="([^"]+)"', composer)
    assert new_key != sent_key
    assert "invalid" not in composer
    assert await messages_in(room) == [("ana", "hola")]
    await ana_socket.disconnect()


async def test_member_of_another_room_receives_nothing(make_user):
    """Groups are per room: Cy, in another room, gets no frame."""
    ana = await database_sync_to_async(make_user)("ana")
    cy = await database_sync_to_async(make_user)("cy")
    lobby = await create_room("Lobby")
    other = await create_room("Other")
    ana_socket = await join(lobby.slug, ana)
    cy_socket = await join(other.slug, cy)

    await ana_socket.send_to(text_data=frame(message="only for the lobby"))

    await receive_push_and_composer(ana_socket)
    assert await cy_socket.receive_nothing(timeout=0.3)
    await ana_socket.disconnect()
    await cy_socket.disconnect()


async def test_spoofed_author_fields_are_ignored(make_user):
    """The author is the socket's logged-in user, whatever name the frame claims."""
    ana = await database_sync_to_async(make_user)("ana")
    await database_sync_to_async(make_user)("admin")
    room = await create_room("Lobby")
    ana_socket = await join(room.slug, ana)

    await ana_socket.send_to(text_data=frame(message="who am I", username="admin", user="admin", author="admin"))

    pushed, _composer = await receive_push_and_composer(ana_socket)
    assert ">ana<" in pushed and ">admin<" not in pushed
    assert await messages_in(room) == [("ana", "who am I")]
    await ana_socket.disconnect()


@pytest.mark.parametrize("text", ["", "   ", "x" * 4001], ids=["empty", "blank", "4001-chars"])
async def test_rejected_message_answers_sender_only_and_saves_nothing(make_user, text):
    """An invalid message gets an error fragment beside the sender's composer, and nothing else."""
    ana = await database_sync_to_async(make_user)("ana")
    bea = await database_sync_to_async(make_user)("bea")
    room = await create_room("Lobby")
    ana_socket = await join(room.slug, ana)
    bea_socket = await join(room.slug, bea)

    await ana_socket.send_to(text_data=frame(message=text))

    answer = await ana_socket.receive_from()
    assert 'id="message-form"' in answer
    assert 'id="message-errors"' in answer and 'role="alert"' in answer
    assert 'aria-invalid="true"' in answer
    assert await ana_socket.receive_nothing(timeout=0.2)
    assert await bea_socket.receive_nothing(timeout=0.2)
    assert await messages_in(room) == []
    await ana_socket.disconnect()
    await bea_socket.disconnect()


async def test_over_long_message_keeps_the_typed_text_in_the_composer(make_user):
    """Nothing typed is lost: the rejected composer still holds the text, to shorten it."""
    ana = await database_sync_to_async(make_user)("ana")
    room = await create_room("Lobby")
    ana_socket = await join(room.slug, ana)

    await ana_socket.send_to(text_data=frame(message="y" * 4001))

    answer = await ana_socket.receive_from()
    assert f'value="{"y" * 4001}"' in answer
    assert "at most 4000 characters" in answer
    await ana_socket.disconnect()


@pytest.mark.parametrize(
    "text_data",
    ["not json", "[1, 2]", '"message"', "{}", '{"message": 42}', '{"message": null}', '{"HEADERS": {}}'],
)
async def test_malformed_frame_is_ignored_and_socket_stays_open(make_user, text_data):
    """A frame that is not a JSON object with a string `message` changes nothing."""
    ana = await database_sync_to_async(make_user)("ana")
    room = await create_room("Lobby")
    ana_socket = await join(room.slug, ana)

    await ana_socket.send_to(text_data=text_data)
    assert await ana_socket.receive_nothing(timeout=0.2)

    await ana_socket.send_to(text_data=frame(message="still here"))
    pushed, _composer = await receive_push_and_composer(ana_socket)
    assert "still here" in pushed
    assert await messages_in(room) == [("ana", "still here")]
    await ana_socket.disconnect()


async def test_binary_frame_is_ignored(make_user):
    """Binary frames are not ours: ignored, socket open."""
    ana = await database_sync_to_async(make_user)("ana")
    room = await create_room("Lobby")
    ana_socket = await join(room.slug, ana)

    await ana_socket.send_to(bytes_data=b"\x00\xff")
    assert await ana_socket.receive_nothing(timeout=0.2)
    await ana_socket.disconnect()


async def test_first_message_of_the_day_pushes_its_day_separator(make_user):
    """Only the day's first message carries a "Today" separator."""
    ana = await database_sync_to_async(make_user)("ana")
    room = await create_room("Lobby")
    ana_socket = await join(room.slug, ana)

    await ana_socket.send_to(text_data=frame(message="first"))
    first_push, _composer = await receive_push_and_composer(ana_socket)
    await ana_socket.send_to(text_data=frame(message="second"))
    second_push, _composer = await receive_push_and_composer(ana_socket)

    assert 'class="day-separator"' in first_push and "Today" in first_push
    assert first_push.index("day-separator") < first_push.index("first")
    assert "day-separator" not in second_push
    await ana_socket.disconnect()


async def test_typing_is_shown_to_the_others_in_the_room_not_the_typist(make_user):
    """A typing frame (the input's, carrying the form's fields too) tells Bea, not Ana, saves
    nothing; Ana's next message clears the indicator."""
    ana = await database_sync_to_async(make_user)("ana")
    bea = await database_sync_to_async(make_user)("bea")
    room = await create_room("Lobby")
    ana_socket = await join(room.slug, ana)
    bea_socket = await join(room.slug, bea)

    await ana_socket.send_to(text_data=frame(message="half a thou", typing=True))

    shown = await bea_socket.receive_from()
    assert shown.startswith('<div id="typing"') and "ana is typing…" in shown
    assert await ana_socket.receive_nothing(timeout=0.2)
    assert await messages_in(room) == []
    await ana_socket.send_to(text_data=frame(message="half a thought"))
    pushed = await bea_socket.receive_from()
    assert '<div id="typing" class="typing" aria-live="polite"></div>' in pushed
    await ana_socket.disconnect()
    await bea_socket.disconnect()
