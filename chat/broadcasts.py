"""The chat's only door to the channel layer: group names, event types and their shapes, and
sends (chat.hub, which receives them for a process's sockets, goes through it too). /healthz's
probe, a `healthz.ping` to its process's own channel, is site_config/health.py's.

Groups (Channels' rule: ASCII, under 100 characters; slugs are capped at 50 for that):
- `members.<slug>` (members_group): the sockets of a room's members, on any chat page.
- `room.<slug>` (page_group): the sockets open on the room's page.
- `user.<id>` (user_group): every socket of one user.

Events, each handled by the consumer method of the same name (`chat.message` -> `chat_message`):
- `chat.message` {"room": int, "seq": int, "author": int, "mentions": [int], **push} to members_group
- `room.changed` {"room": int, "archived": bool, **push} to members_group
- `room.members` {**push}, `chat.typing` {"user_id": int, **push}, `chat.presence` {**push} to page_group
  (the member list and who is online go spaced: chat.presence_pushes)
- `membership.read` {"room": int, "seq": int} to user_group
- `sidebar.refresh` {} and `access.check` {} to user_group

The channel layer only carries news: the database is the source of truth, and a socket that
misses an event repairs the gap at its next event or sync. So a send that fails (Redis away) is
logged and dropped here, never raised into the service or the socket that asked for it.
Synchronous senders are for services, called once the change is committed. A `push` is
variants.push's {"html", "variant", "again", "rendered"}: rendered in the site's default variant
whatever the sender has active and in the other variants known present, and again per other
variant by the sockets (variants.push_html).
"""

import asyncio
import contextvars
import functools
import logging
import math
import time

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.exceptions import ChannelFull
from channels.layers import get_channel_layer
from django.conf import settings
from redis.exceptions import RedisError

from accounts.profiles import display_name_recent

from . import variants
from .outages import Breaker
from .selectors import LogLine
from .variant_rooms import variant_rooms_enabled, variants_in, variants_in_async

logger = logging.getLogger(__name__)

# What a channel layer raises when its backing store is away or full. Any other exception from
# the layer is caught too (logged with its type): a send is best effort by design, and a client
# library left half-way by a paused Redis may raise something else (RuntimeError, ValueError).
LAYER_ERRORS = (OSError, RedisError, ChannelFull, asyncio.TimeoutError, Exception)
# A send or subscription the layer has not done within this many seconds is given up (a paused
# Redis would otherwise hold the message's sender until it came back).
LAYER_TIMEOUT_SECONDS = 2.0


def members_group(room) -> str:
    """The group of `room`'s members' sockets (`room` a Room, or its slug): its messages, renames and archiving."""
    return f"members.{room if isinstance(room, str) else room.slug}"


def page_group(room) -> str:
    """The group of the sockets open on `room`'s page (`room` a Room, or its slug): presence, typing, edits."""
    return f"room.{room if isinstance(room, str) else room.slug}"


def user_group(user_id: int) -> str:
    """The group of every open socket of user `user_id`."""
    return f"user.{user_id}"


layer_breaker = Breaker("channel layer")


async def _layer_call(operation: str, *args) -> bool:
    """Call the channel layer's `operation` with `args`; False (logged) if it is away, slow, or
    was seen away in the last seconds (the Breaker), never an error. The layer is looked up
    inside the running loop: the Redis pub/sub layer keeps one connection per loop."""
    if not layer_breaker.allows():
        return False
    try:
        async with asyncio.timeout(LAYER_TIMEOUT_SECONDS):  # not wait_for: it can swallow a cancel
            await getattr(get_channel_layer(), operation)(*args)
    except LAYER_ERRORS as error:
        layer_breaker.failed(error)
        logger.info("channel layer %s skipped, %s: %r", operation, args[0], error)
        return False
    layer_breaker.succeeded()
    return True


async def group_send(group: str, event: dict) -> bool:
    """Send `event` to `group`, naming it (`"group"`: chat.hub hands it to the group's sockets);
    False if the layer is away (the sockets' syncs repair it)."""
    return await _layer_call("group_send", group, {**event, "group": group})


async def group_add(group: str, channel_name: str) -> bool:
    """Add `channel_name` to `group`; False if the layer is away: the caller tries again later
    (a socket re-adds its groups at every sync)."""
    return await _layer_call("group_add", group, channel_name)


async def group_discard(group: str, channel_name: str) -> None:
    """Remove `channel_name` from `group`; with the layer away, nothing (a pub/sub subscription
    ends with its connection; a stored group membership expires)."""
    await _layer_call("group_discard", group, channel_name)


# The sends of synchronous code that a socket runs on the thread pool (sends_from_loop): made by
# the socket's event loop once the thread is back, not each by a hop to the loop and back.
_gathered: contextvars.ContextVar[list | None] = contextvars.ContextVar("chat_sends_gathered", default=None)


def _send_sync(group: str, event: dict) -> None:
    """group_send from synchronous code: gathered for the loop under sends_from_loop, else sent
    now (async_to_sync: a hop to the event loop while this thread waits)."""
    gathered = _gathered.get()
    if gathered is None:
        async_to_sync(group_send)(group, event)
    else:
        gathered.append((group, event))


def sends_from_loop(function):
    """`function` (synchronous: a service that broadcasts once its change is committed) as a
    coroutine function for a socket: run on the thread pool, as
    database_sync_to_async(thread_sensitive=False) runs it, with the group sends it makes
    gathered and made from the event loop, in their order, once it returns or raises (only
    committed changes broadcast, on_commit). Saves a message two thread switches each way. A
    caller cancelled while the thread runs sends nothing it gathered later: those members
    repair the gap at their next event or sync, as after a lost event."""
    run = database_sync_to_async(function, thread_sensitive=False)

    @functools.wraps(function)
    async def from_loop(*args, **kwargs):
        gathered: list[tuple[str, dict]] = []
        token = _gathered.set(gathered)
        try:
            return await run(*args, **kwargs)
        finally:
            _gathered.reset(token)
            for group, event in gathered:
                await group_send(group, event)

    return from_loop


def message_broadcast(*, line: LogLine, mentioned: list[int] | None = None) -> None:
    """Render `line` (a new message, with its day separator or its group) once and send it to
    its room's members (`chat.message`), with the ids of the users it `mentioned` (their
    sidebars count it as a mention). Every member of a variant gets the same bytes: what differs
    per reader ("mine", "mentions me") is styled by the reader's page; the day separator and
    times are told again in each variant's zone (variants.message_push)."""
    message = line.message
    name, present = display_name_recent(message.author), variants_in(message.room_id)
    push = variants.message_push(line, name=name, present=present)
    _send_sync(members_group(message.room), _message_event(line, mentioned, push))


async def message_broadcast_async(*, line: LogLine, name: str) -> None:
    """message_broadcast of a message that mentions no one, from the event loop, its author's
    display name `name` (no query here). With the in-memory layer, the push is rendered in each
    variant of the room page's sockets (the process's hub has them all) and carries no data to render
    it again (variants.push's `again`): a socket left out, one that joined since, reads the
    message from the database (RoomConsumer.chat_message)."""
    from .hub import hub  # which sends through this module

    room = line.message.room
    if variant_rooms_enabled():
        push = variants.message_push(line, name=name, present=await variants_in_async(room.pk))
    else:  # one process: its hub has every socket on the room's page (the sidebars take no HTML)
        push = variants.message_push(line, name=name, present=hub().variants(page_group(room)), again=False)
    await group_send(members_group(room), _message_event(line, None, push))


def _message_event(line: LogLine, mentioned: list[int] | None, push: dict) -> dict:
    message = line.message
    event = {"type": "chat.message", "room": message.room_id, "seq": message.seq, "author": message.author_id}
    return {**event, "mentions": mentioned or [], **push}


def room_changed_broadcast(*, room, composer: bool = False) -> None:
    """Push `room`'s new header (and, if `composer`, its composer: only when its archived state
    changed, since a fresh composer clears what people were typing) to its members
    (`room.changed`); their sidebars re-read it."""
    event = {"type": "room.changed", "room": room.pk, "archived": room.is_archived}
    _send_sync(members_group(room), {**event, **variants.room_push(room=room, composer=composer)})


def membership_read_broadcast(*, user_id: int, room_id: int, seq: int) -> None:
    """Tell user `user_id`'s sockets that they read room `room_id` up to `seq` (another tab)."""
    _send_sync(user_group(user_id), {"type": "membership.read", "room": room_id, "seq": seq})


def sidebar_refresh(*, user_id: int) -> None:
    """Ask user `user_id`'s sockets to re-read their sidebar (their memberships changed)."""
    _send_sync(user_group(user_id), {"type": "sidebar.refresh"})


def user_sockets_check(*, user_id: int) -> None:
    """Ask user `user_id`'s sockets to re-check their session and room access, closing if
    either ended (4001, 4003): after a log-out, deactivation, password change or removal."""
    _send_sync(user_group(user_id), {"type": "access.check"})


# When each (room id, user id) last had a typing push from this process (monotonic seconds).
typing_sent: dict[tuple[int, int], float] = {}


async def typing_broadcast(*, room, user) -> None:
    """Tell the others on `room`'s page that `user` is typing (rendered once, no database), at
    most once every CHAT_TYPING_SECONDS per user and room from each process, whatever the
    client sends: the page's own throttle is only a courtesy."""
    now = time.monotonic()
    if now - typing_sent.get((room.pk, user.pk), -math.inf) < settings.CHAT_TYPING_SECONDS:
        return
    if len(typing_sent) > 10_000:
        typing_sent.clear()  # old entries are worth nothing: forget them all at once
    typing_sent[(room.pk, user.pk)] = now
    push = variants.push("typing", {"typist": user.get_username()})
    await group_send(page_group(room), {"type": "chat.typing", "user_id": user.pk, **push})


def reactions_broadcast(*, room, push: dict) -> None:
    """Push a message's reaction bar to the sockets on `room`'s page: `chat.reactions` {**push} to
    page_group, `push` being chat.reactions.reactions_push's (rendered once, again per variant
    by the sockets). Readers on other pages see the bar when they open the room."""
    _send_sync(page_group(room), {"type": "chat.reactions", **push})


def message_changed_broadcast(*, room, seq: int, change_seq: int, push: dict) -> None:
    """Push message `seq`'s bubble after its edit or deletion number `change_seq` to the sockets on
    `room`'s page: `message.changed` {"room", "seq", "change_seq", **push} to page_group, `push`
    being chat.changes.changed_push's. Each socket applies changes in order (chat.changes)."""
    event = {"type": "message.changed", "room": room.pk, "seq": seq, "change_seq": change_seq}
    _send_sync(page_group(room), {**event, **push})
