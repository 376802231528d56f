"""A process's hub (chat.hub): one layer subscription per group and process, each socket's events
still one at a time and in order, and a message's cost independent of its room's size."""

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from chat import fragments
from chat.consumers import base
from chat.consumers.base import ChatSocket
from chat.hub import hub
from chat.messages import message_create
from chat.tests.support import join, post_frame

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_in_memory_layer")]


async def test_a_room_s_sockets_share_one_layer_subscription_gone_with_the_last(lobby_sockets, settings):
    """Three members' sockets on a room's page: each of its groups holds one channel in the
    layer (the in-memory one, whose groups can be read), the process's hub's; once the last
    socket leaves, none."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "site_config.layers.InMemoryChannelLayer"}}
    room, sockets = await lobby_sockets("ana", "bea", "cy")
    layer = get_channel_layer()
    for group in (f"members.{room.slug}", f"room.{room.slug}"):
        assert list(layer.groups[group]) == [hub().channel]
    channel = hub().channel
    for socket in sockets:
        await socket.disconnect()
    sockets.clear()
    assert not any(channel in channels for channels in layer.groups.values())


async def test_each_socket_still_gets_a_message_once_in_order(lobby_sockets):
    """Five messages from one member reach every other socket once each, in seq order."""
    room, (ana, bea, cy) = await lobby_sockets("ana", "bea", "cy")
    for n in range(5):
        await ana.send_to(text_data=post_frame(f"hub {n}"))
    for socket in (bea, cy):
        seen = [await socket.receive_from() for _ in range(5)]
        assert [f"hub {n}" in frame for n, frame in enumerate(seen)] == [True] * 5


class Recorder(ChatSocket):
    """A socket whose message handler records the seqs it is given."""

    def __init__(self):
        super().__init__()
        self.inbox_open()
        self.handled = []

    async def chat_message(self, event):
        self.handled.append(event["seq"])

    def where(self) -> str:
        return "recorder"


async def test_a_socket_far_behind_drops_quick_events_never_an_access_check(monkeypatch):
    """Past INBOX_LIMIT events waiting, messages are dropped (the cursor repairs them: a gap),
    but an access check still joins the inbox; once caught up, nothing is dropped."""
    monkeypatch.setattr(base, "INBOX_LIMIT", 3)
    socket = Recorder()
    async with socket.turn:
        for seq in range(1, 6):
            await socket.hub_event(message(seq))
        await socket.hub_event({"type": "access.check", "group": "user.1"})
    assert socket.queued == 4 and socket.overflowed
    handled = [(await socket.inbox.get())["type"] for _ in range(4)]
    assert handled == ["chat.message"] * 3 + ["access.check"]


def message(seq: int) -> dict:
    return {"type": "chat.message", "group": "members.lobby", "seq": seq}


async def test_a_busy_socket_takes_the_hub_s_events_after_what_it_is_doing_in_order():
    """An event for a socket busy with a frame waits in its inbox; one arriving when the socket
    is idle again but still has one waiting queues behind it; an idle socket with nothing
    waiting handles it at once. Events that may read the database always wait their turn."""
    socket = Recorder()
    async with socket.turn:  # handling a frame
        await socket.hub_event(message(1))
    await socket.hub_event(message(2))
    assert socket.handled == [] and socket.queued == 2
    while socket.queued:
        await socket.dispatch(await socket.inbox.get())
    assert socket.handled == [1, 2]
    await socket.hub_event(message(3))
    assert socket.handled == [1, 2, 3] and socket.inbox.empty()
    await socket.hub_event({"type": "access.check", "group": "user.1"})
    assert socket.queued == 1


async def test_a_message_costs_the_same_queries_and_one_render_whatever_the_room_s_size(
    lobby_sockets, make_user, monkeypatch
):
    """A message in a room of one connected member and in one of six: the same database
    queries to save it, and its bubble rendered once, not once per reader."""
    renders = []
    append = fragments.messages_append
    monkeypatch.setattr(fragments, "messages_append", lambda **kw: renders.append(1) or append(**kw))
    room, sockets = await lobby_sockets("ana")
    author = sockets[0].user

    @database_sync_to_async
    def queries_to_post(body: str) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            message_create(room=room, author=author, body=body)
        return len(captured)

    alone = await queries_to_post("alone")
    for name in ("bea", "cy", "dan", "eve", "fay"):
        sockets.append(await join(room.slug, await database_sync_to_async(make_user)(name), after=1))
    renders.clear()
    crowded = await queries_to_post("crowded")
    for socket in sockets[1:]:
        assert "crowded" in await socket.receive_from()
    for socket in sockets[1:]:
        await socket.disconnect()
    # BEGIN, the room's row locked, the INSERT, two UPDATEs, COMMIT, the author's display name.
    assert crowded == alone <= 7
    assert len(renders) == 1
