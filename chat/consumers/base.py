"""What every chat socket does besides its page's work: survive its own handlers' failures,
keep its groups through channel-layer outages, and end when its access ends."""

import asyncio
import logging
import uuid

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.sessions import InstanceSessionWrapper

from site_config.slim_queue import SlimQueue

from .. import fragments, variants
from ..express import Express, text_frame
from ..hub import hub
from ..inbox import inbox_dispatch

logger = logging.getLogger("chat.consumers")

CLOSE_NOT_AUTHENTICATED = 4001
CLOSE_NOT_A_MEMBER = 4003
CLOSE_ROOM_NOT_FOUND = 4004

# Events whose handlers only read the socket's state and send (no database, no waiting on
# anything but the send): the hub hands them to an idle socket at once (ChatSocket.hub_event).
# A handler among them that finds it needs more (a gap to catch up) defers the event.
QUICK_EVENTS = frozenset(
    {"chat.message", "chat.typing", "chat.presence", "chat.reactions", "room.members", "membership.read"}
)


def _without_session_wrapper(send):
    """`send` (an ASGI send) without Channels' session middleware around it, if it is there: that
    wrapper saves the session on `http.response.start` only, but reads it on every message
    first, so for a socket it is a cost per push and nothing else (Channels 4.3; the change
    upstream: docs/upstream/channels-session-send.patch)."""
    wrapper = getattr(send, "__self__", None)
    return wrapper.real_send if isinstance(wrapper, InstanceSessionWrapper) else send


def socket_closed(error: Exception) -> bool:
    """Whether `error`, raised by a send, only says the socket is closing: the client went away
    (uvicorn's ClientDisconnected, an OSError), or its close was sent already (the server shutting
    down, or the socket ended) while the hub had a push for it. Its disconnect follows; nothing
    went wrong."""
    return isinstance(error, OSError) or (
        isinstance(error, RuntimeError) and "after sending 'websocket.close'" in str(error)
    )


# Events a socket may have waiting in its inbox before the hub drops its quick ones (Channels'
# in-memory layer holds 100 a channel): a socket this far behind is stuck, and memory stays flat.
INBOX_LIMIT = 1000


class ChatSocket(AsyncWebsocketConsumer):
    """Channels' AsyncWebsocketConsumer, with three changes, each for a reason:

    - Its events come from its process's hub (chat.hub), not from a channel of its own in the
      layer: one subscription and one copy of each event per process, not per socket
      (`hub_event`). Its frames and events are still handled one at a time, in order.
    - No handler's failure ends the socket: an exception in handling one frame or event is
      logged and the socket goes on (a failed connect closes it with 1011), so its group
      memberships and presence are still cleaned up on disconnect.
    - Channels closes stale database connections (a thread hop) before every handler. Chat
      sockets reach the database only through database_sync_to_async (and
      broadcasts.sends_from_loop, built on it), which closes them itself on the thread that
      uses them, so no handler takes that hop: one a frame (each message sent), one a connect.
      See docs/architecture.md, "Where Channels is the cost".

    A socket lives in its reader's `variant` (variants.Variant: language and time zone, read as
    it opens): whatever it renders for itself is in it, and it takes group pushes in it
    (variants.push_html).

    Subclasses set `self.gate` (access.AccessGate) and define `where()` and `chat_message()`.
    """

    has_composer = False  # whether this socket's page has a composer to close when it ends
    variant: variants.Variant | None = None
    inline = False  # whether the handler running was called by the hub (see defer)
    express: Express | None = None  # direct writes to its connection, where possible (chat.express)
    variant_key = ""  # self.variant.key

    async def __call__(self, scope, receive, send):
        # Each socket runs in a task of its own (and its own copy of the context variables), so
        # one override for its whole life reaches every handler and nothing else: no cost per
        # event. Tasks it starts inherit it: what they render for others sets its own variant.
        try:
            self.variant = await variants.socket_variant(scope)
        except Exception:
            logger.exception("socket's language and time zone not read: the site's instead")
            self.variant = variants.default_variant()
        self.variant_key = self.variant.key  # computed once: the hub's direct writes ask per copy
        with self.variant.active():
            await self.run(scope, receive, send)

    async def run(self, scope, receive, send) -> None:
        """Channels' AsyncConsumer.__call__, with the socket's events taken from its `inbox`
        (filled by the hub) instead of a channel of its own, its frames through it too
        (chat.inbox.inbox_dispatch): `channel_name` only names the socket (presence's key)."""
        self.scope, self.base_send = scope, _without_session_wrapper(send)
        self.channel_layer, self.channel_name = None, f"socket.{uuid.uuid4().hex}"
        self.inbox_open()
        try:
            await inbox_dispatch(receive, self.inbox, self.dispatch)
        except StopConsumer:
            pass
        finally:
            if self.groups:  # it ended without its disconnect (which leaves them)
                hub().forget(self)

    def inbox_open(self) -> None:
        """Make the socket's inbox, and its turn: held while a frame or an event is handled."""
        self.inbox = SlimQueue()
        self.queued = 0  # events put in the inbox and not handled yet
        self.overflowed = False  # whether quick events were dropped since the inbox was last empty
        self.dropped = 0  # quick events dropped in the socket's life
        self.turn = asyncio.Lock()

    async def hub_event(self, event: dict) -> None:
        """The hub has `event` for this socket: a QUICK_EVENTS one is handled now if the socket
        is idle; anything else, or while it is busy or has events waiting, joins its inbox. A
        socket INBOX_LIMIT events behind drops quick events (never the others: an access check
        always arrives), as a channel layer over capacity would."""
        quick = event["type"] in QUICK_EVENTS
        if self.queued or self.turn.locked() or not quick:
            if quick and self.queued >= INBOX_LIMIT:
                if not self.overflowed:
                    logger.warning("socket %s events behind, %s: its quick events dropped", self.queued, self.where())
                self.overflowed = True
                self.dropped += 1
                return  # what it misses it repairs: a gap at its next message or sync, the next push
            self.defer(event)
            return
        async with self.turn:
            self.inline = True
            try:
                await self.handle(event)
            finally:
                self.inline = False

    async def accept(self, subprotocol=None, headers=None):
        """Channels' accept; then, the handshake done, the socket's direct writes if its server
        allows them (Express.for_send: None otherwise)."""
        await super().accept(subprotocol, headers)
        self.express = Express.for_send(self.base_send)

    async def send(self, text_data=None, bytes_data=None, close=False):
        """Channels' send, with a text frame written straight to the connection where the server
        allows (chat.express: the bytes its own send would write, without its coroutine and checks);
        anything else, or a connection paused or closing, through the server."""
        if text_data is not None and bytes_data is None and not close and self.express is not None:
            if self.express.write(text_frame(text_data)):
                return
        await super().send(text_data=text_data, bytes_data=bytes_data, close=close)

    def hub_express(self, event: dict, frames: dict) -> bool:
        """Handle the hub's `event` now with one direct write of its push (chat.express), if this
        socket is idle and its handler would only send that push as it is (`express_ready`);
        False, with nothing done, if not: the hub then calls hub_event. `frames` holds the
        event's frames already serialised, per variant, for the sockets after this one."""
        if self.express is None or self.queued or self.turn.locked() or not self.express_ready(event):
            return False
        data = frames.get(self.variant_key)  # a str key: its hash is kept, a Variant's is not
        if data is None:
            data = frames[self.variant_key] = text_frame(variants.push_html(event, self.variant))
        return self.express.write(data)

    def express_ready(self, event: dict) -> bool:
        """Whether this socket's handler of `event` would do nothing but send its push as it is
        (variants.push_html): none here; a subclass says."""
        return False

    def defer(self, event: dict) -> None:
        """Handle `event` later, in this socket's own task, after what it is doing: for the hub,
        and for a quick handler called `inline` that finds it must wait (a database read)."""
        self.queued += 1
        self.inbox.put_nowait(event)

    async def dispatch(self, message):
        async with self.turn:
            await self.handle(message)
            if not message["type"].startswith("websocket."):
                self.queued -= 1  # an event from the inbox
                self.overflowed = self.overflowed and self.queued > 0

    async def handle(self, message: dict) -> None:
        """Call `message`'s handler (as Channels' dispatch names it, without its closing of stale
        database connections: see the class), logging (not raising) what it raises."""
        try:
            handler = getattr(self, get_handler_name(message), None)
            if handler is None:
                raise ValueError(f"No handler for message type {message['type']}")
            await handler(message)
        except StopConsumer:
            raise
        except Exception as error:
            if socket_closed(error):
                logger.info("socket gone during %s, %s: %r", message["type"], self.where(), error)
                return
            logger.exception("socket handler raised on %s, %s", message["type"], self.where())
            if message["type"] == "websocket.connect":
                await self.close(code=1011)

    async def group_join(self, group: str) -> None:
        """Join `group` through the hub (Channels' self.groups keeps the list), unless joined
        already. If the layer is away, the group is kept and joined again at the next groups_renew."""
        if group in self.groups:
            return
        self.groups.append(group)
        await hub().join(group, self)

    async def group_leave(self, group: str) -> None:
        self.groups.remove(group)
        await hub().leave(group, self)

    async def groups_renew(self) -> None:
        """Subscribe the hub to this socket's groups again: nothing for a pub/sub layer that never
        lost them, a re-subscription after the layer was away (or a Redis that came back empty)."""
        await hub().renew(self.groups)

    async def websocket_disconnect(self, message):
        # Channels leaves self.groups, then calls disconnect(): with the layer away, leaving
        # would raise before disconnect() ran, and presence and read markers would be lost.
        groups, self.groups = self.groups, []
        for group in groups:
            await hub().leave(group, self)
        await super().websocket_disconnect(message)

    async def access_ok(self, full: bool = True, first: bool = False) -> bool:
        """Whether this socket may still act (its AccessGate, fully or cheaply, or `first`: its
        first check, which may take its handshake's read); if not, it ends: 4001 when the
        session ended, 4003 when the room no longer admits the user."""
        if first:
            verdict = await self.gate.first_check()
        else:
            verdict = await (self.gate.full_check() if full else self.gate.check())
        if verdict == "session":
            await self.end("session over", CLOSE_NOT_AUTHENTICATED, "ended")
        elif verdict == "room":
            await self.end("removed", CLOSE_NOT_A_MEMBER, "removed")
        return verdict == "ok"

    async def end(self, reason: str, code: int, state: str) -> None:
        """Close this socket with `code`, after telling its page why (`state`, fragments.status)."""
        logger.info("socket ended: %s, %s user=%s", reason, self.where(), self.scope["user"].pk)
        await self.send(text_data=fragments.socket_ended(state, composer=self.has_composer))
        await self.close(code=code)
