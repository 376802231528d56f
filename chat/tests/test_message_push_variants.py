"""A new message's push from the event loop with the in-memory layer: rendered for every variant of
the room's sockets, without the data to render it again (chat.broadcasts, chat.variants.push)."""

import datetime

import pytest
from channels.db import database_sync_to_async

from chat import attachments, broadcasts, hub
from chat.memberships import membership_join
from chat.models import Message
from chat.selectors import LogLine
from chat.tests.support import add_message, create_room, open_socket
from chat.tests.test_variants import (
    BOGOTA,
    EVENING,
    MADRID,
    MADRID_AFTER_MIDNIGHT,
    as_the_page_shows,
    message_push,
    open_tab,
    person,
)
from chat.variants import default_variant, push_readable

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_in_memory_layer")]


@database_sync_to_async
def stored_line(room, author, body: str, at: datetime.datetime) -> LogLine:
    """A message stored without a push (at `at`), as the line the poster's service makes."""
    message = add_message(room, author, body, created_at=at)
    previous = Message.objects.get(room=room, seq=message.seq - 1)
    message = Message.objects.select_related("room", "author").get(pk=message.pk)
    attachments.attachments_restore(message, [])  # as the service does: none yet
    return LogLine.after(message, author_id=previous.author_id, at=previous.created_at)


async def test_a_push_from_the_loop_renders_each_sockets_variant_and_a_socket_left_out_reads_it(make_user, monkeypatch):
    """With the in-memory layer, a message pushed from the loop carries a rendering for the
    variants on the room's page, Ana's and Bea's (not Max's: he is on another page), and no
    data: each gets what their page shows. A push whose variants leave Bea's out (her socket
    newer than the push) reaches her all the same, read from the database, in order."""
    ana, bea = await person(make_user, "ana"), await person(make_user, "bea", BOGOTA)
    max_ = await person(make_user, "max", MADRID)
    room = await create_room("Lobby")
    await database_sync_to_async(membership_join)(room=room, user=max_)
    await database_sync_to_async(add_message)(room, ana, "good evening", created_at=EVENING)
    anas, beas = await open_tab(room, ana), await open_tab(room, bea)
    maxs, connected = await open_socket(None, max_)  # the room index's socket: a sidebar, no log
    assert connected
    # One process (as with the in-memory layer, whatever layer this stack's tests have): its hub
    # has every socket.
    monkeypatch.setattr(broadcasts, "variant_rooms_enabled", lambda: False)
    sent = []
    group_send = broadcasts.group_send
    monkeypatch.setattr(broadcasts, "group_send", lambda group, event: sent.append(event) or group_send(group, event))

    line = await stored_line(room, ana, "one", MADRID_AFTER_MIDNIGHT)
    await broadcasts.message_broadcast_async(line=line, name="ana")
    assert "again" not in sent[-1] and list(sent[-1]["rendered"]) == [BOGOTA.key]  # not Max's: no page shows it
    assert await message_push(anas) == await as_the_page_shows(room, 2, default_variant())
    assert await message_push(beas) == await as_the_page_shows(room, 2, BOGOTA)

    monkeypatch.setattr(hub.Hub, "variants", lambda self, group: [default_variant().key])
    line = await stored_line(room, ana, "two", MADRID_AFTER_MIDNIGHT + datetime.timedelta(minutes=1))
    await broadcasts.message_broadcast_async(line=line, name="ana")
    assert not push_readable(sent[-1], BOGOTA) and push_readable(sent[-1], default_variant())
    assert await message_push(anas) == await as_the_page_shows(room, 3, default_variant())
    for_bea = await message_push(beas)
    assert 'data-seq="3"' in for_bea and "two" in for_bea and 'data-seq="2"' not in for_bea
    for socket in (anas, beas, maxs):
        await socket.disconnect()
