"""Mentions live: the pushed message is formatted, and only the mentioned member's sidebar shows
a mention badge, moved by the message's own event (no query per reader)."""

import re

import pytest
from channels.db import database_sync_to_async

from chat.memberships import membership_join
from chat.tests.support import create_room, join, open_socket, post_frame

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_in_memory_layer")]


def badges(fragment: str, room) -> dict[str, str]:
    """The badges `fragment` shows on `room`'s sidebar entry: {"unread": "1", "mention": "1"}."""
    entry = re.search(rf'<li id="sidebar-room-{room.pk}">(.*?)</li>', fragment, re.S)
    assert entry, fragment
    return {kind: count for count, kind in re.findall(r'aria-label="(\d+) (unread|mention)s?"', entry.group(1))}


async def test_a_mention_is_pushed_formatted_and_badges_only_the_mentioned_members_sidebar(make_user):
    """Ana writes "@bea **look** <url>" in Lobby: everyone's log gets the formatted message; Bea's
    sidebar (on another page) counts it as unread and as a mention, Cy's only as unread."""
    ana, bea, cy = [await database_sync_to_async(make_user)(name) for name in ("ana", "bea", "cy")]
    lobby = await create_room("Lobby")
    for person in (bea, cy):
        await database_sync_to_async(membership_join)(room=lobby, user=person)
    beas, _connected = await open_socket(None, bea)
    cys, _connected = await open_socket(None, cy)
    assert badges(await beas.receive_side(), lobby) == badges(await cys.receive_side(), lobby) == {}
    anas = await join(lobby.slug, ana)

    await anas.send_to(text_data=post_frame("@bea **look** https://example.com/a <script>"))

    push = next(frame for frame in [await anas.receive_from(), await anas.receive_from()] if 'id="messages"' in frame)
    assert '<span class="mention" data-mention="bea">@bea</span> <strong>look</strong>' in push
    assert '<a href="https://example.com/a" target="_blank" rel="nofollow noopener noreferrer">' in push
    assert "&lt;script&gt;" in push and "<script>" not in push
    assert badges(await beas.receive_side(), lobby) == {"unread": "1", "mention": "1"}
    assert badges(await cys.receive_side(), lobby) == {"unread": "1"}
    for socket in (anas, beas, cys):
        await socket.disconnect()
