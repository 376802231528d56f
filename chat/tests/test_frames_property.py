"""Property: whatever frames a client throws at its socket, the consumer answers or ignores
them, never crashes, stores exactly the valid messages, and other members keep chatting."""

import json
import unicodedata
import uuid

import pytest
from asgiref.sync import async_to_sync
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from chat.models import Message
from chat.rooms import room_get_or_create
from chat.tests.support import join, post_frame

pytestmark = pytest.mark.django_db(transaction=True)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30) | st.uuids().map(str),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
frame_objects = st.dictionaries(
    st.sampled_from(["message", "key", "after", "username", "author", "HEADERS"]), json_values, max_size=4
)
text_frames = st.one_of(
    st.text(max_size=100),
    json_values.map(json.dumps),
    frame_objects.map(json.dumps),
    # Posts as the composer sends them, with any text: blank, invisible, NULs, accents, emoji.
    st.builds(post_frame, st.text(max_size=30), st.uuids().map(str)),
    st.builds(lambda n: post_frame("x" * n), st.sampled_from([4001, 40_000, 1_000_000])),
    st.builds(lambda n: json.dumps({"after": n}), st.integers(min_value=-(2**70), max_value=2**70)),
)
frames = st.lists(st.one_of(text_frames, st.binary(max_size=64)), min_size=1, max_size=6)


def valid_post(frame) -> tuple[str, uuid.UUID] | None:
    """The text and the key the consumer may store it under from `frame`, else None.

    A valid post is a text frame of at most 32 KiB (UTF-8), holding a JSON object with no
    `after`, no `"typing": true` and no `discard`, whose `key` is a UUID of RFC 4122's variant
    and whose `message` is a string that,
    stripped of white space, has 1 to 4,000 characters, no NUL and no lone surrogate (no
    database stores them), and something visible: not only separators, format, control or
    combining characters."""
    if isinstance(frame, bytes) or len(frame.encode("utf-8", "surrogatepass")) > 32768:
        return None
    try:
        data = json.loads(frame)
        key = uuid.UUID(data["key"])
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    if key.variant != uuid.RFC_4122:
        return None
    text = data.get("message")
    if "after" in data or data.get("typing") is True or "discard" in data or not isinstance(text, str):
        return None
    text = text.strip()
    if not 0 < len(text) <= 4000 or "\x00" in text or any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        return None
    if all(unicodedata.category(c)[0] in "CZM" for c in text):
        return None
    return text, uuid.uuid5(key, text)  # stored under a key derived from both (forms.MessageForm)


def expected_stored(frames, keys_used: set[uuid.UUID]) -> list[tuple[str, uuid.UUID]]:
    """The messages the consumer stores from `frames`, in order: each valid post whose key is
    new (one already stored is a resend: the same composer key and text).
    `keys_used` is updated with the keys stored."""
    stored = []
    for post in filter(None, map(valid_post, frames)):
        if post[1] not in keys_used:
            keys_used.add(post[1])
            stored.append(post)
    return stored


@pytest.fixture
def lobby(make_user, settings):
    """Lobby, the fuzzer and Bea, and the keys of the fuzzer's stored messages. Shared by all
    the examples of a test (Hypothesis runs them in one call of the test function)."""
    settings.CHAT_MESSAGE_RATE_LIMITS = "100000/second"
    # Hundreds of frames in a few seconds on one socket: the flood limit is not what is tested.
    settings.CHAT_FRAME_RATE, settings.CHAT_FRAME_BURST = 100_000, 100_000
    return room_get_or_create(name="Lobby")[0], make_user("fuzzer"), make_user("bea"), set()


KEY = "5b0e8f1c-2a4d-4c6e-9f10-3d2b1a0c9e87"


@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frames=frames)
@example(frames=[post_frame("a key of another variant", "3ccc49c1-ba41-e2f8-1267-f06512cfadea")])
@example(frames=[post_frame("a NUL\x00inside")])
@example(frames=[post_frame(r"\x00 is how Python writes a NUL")])
@example(frames=[post_frame("a lone surrogate \ud800", KEY)])
@example(frames=[post_frame("\u200b\u200f \u0301")])
@example(frames=[post_frame(" twice ", KEY), post_frame("twice", KEY), post_frame("other text", KEY)])
def test_random_frames_never_break_the_socket_and_store_exactly_the_valid_messages(lobby, frames):
    room, fuzzer_user, bea_user, keys_used = lobby
    stored_before = Message.objects.filter(author=fuzzer_user).count()
    probe = f"probe {uuid.uuid4()}"

    async def scenario():
        fuzzer = await join(room.slug, fuzzer_user, after=None)
        bea = await join(room.slug, bea_user)
        for frame in frames:
            # Raw events: the test communicator itself refuses an empty frame.
            kind = "bytes" if isinstance(frame, bytes) else "text"
            await fuzzer.send_input({"type": "websocket.receive", kind: frame})
        # Others are unaffected: Bea's message reaches Bea.
        await bea.send_to(text_data=post_frame(probe))
        while probe not in await bea.receive_from(timeout=10):
            pass
        # The fuzzer's socket still serves it: an over-long message comes back in its composer,
        # with the error and the marked text (not the probe: a fuzzed first sync may claim,
        # falsely, to have every message). So every frame before it has been handled.
        alive = f"alive-{uuid.uuid4()}"
        await fuzzer.send_to(text_data=post_frame(alive + "x" * 4001))
        while alive not in await fuzzer.receive_from(timeout=10):
            pass
        for socket in (fuzzer, bea):
            assert not socket.future.done(), "the consumer ended"
        await fuzzer.disconnect()
        await bea.disconnect()

    async_to_sync(scenario)()
    stored = Message.objects.filter(author=fuzzer_user).order_by("seq").values_list("body", "client_key")
    assert list(stored[stored_before:]) == expected_stored(frames, keys_used)
    assert Message.objects.filter(body=probe, author=bea_user).count() == 1
