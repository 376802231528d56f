"""What every chat socket does besides its page's work: survive its own handlers' failures,
keep its groups through channel-layer outages, and end when its access ends."""

import logging

from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer

from .. import broadcasts, fragments, variants

logger = logging.getLogger("chat.consumers")

CLOSE_NOT_AUTHENTICATED = 4001
CLOSE_NOT_A_MEMBER = 4003
CLOSE_ROOM_NOT_FOUND = 4004


class ChatSocket(AsyncWebsocketConsumer):
    """Channels' AsyncWebsocketConsumer, with two changes to its dispatch, each for a reason:

    - No handler's failure ends the socket: an exception in handling one frame or event is
      logged and the socket goes on (a failed connect closes it with 1011), so its group
      memberships and presence are still cleaned up on disconnect.
    - Channels closes stale database connections (a thread-pool hop) before every handler. A
      message event reaches the database only through database_sync_to_async, which does that
      itself: the hop is skipped for the most frequent event of all (one per member and
      message). See docs/architecture.md, "Where Channels is the cost".

    A socket lives in its reader's `variant` (variants.Variant: language and time zone, read as
    it opens): whatever it renders for itself is in it, and it takes group pushes in it
    (variants.push_html).

    Subclasses set `self.gate` (access.AccessGate) and define `where()` and `chat_message()`.
    """

    has_composer = False  # whether this socket's page has a composer to close when it ends
    variant: variants.Variant | None = None

    async def __call__(self, scope, receive, send):
        # Each socket runs in a task of its own (and its own copy of the context variables), so
        # one override for its whole life reaches every handler and nothing else: no cost per
        # event. Tasks it starts inherit it: what they render for others sets its own variant.
        try:
            self.variant = await variants.socket_variant(scope)
        except Exception:
            logger.exception("socket's language and time zone not read: the site's instead")
            self.variant = variants.default_variant()
        with self.variant.active():
            await super().__call__(scope, receive, send)

    async def dispatch(self, message):
        try:
            if message["type"] == "chat.message":
                await self.chat_message(message)
            else:
                await super().dispatch(message)
        except StopConsumer:
            raise
        except OSError as error:
            # The client went away while a push was being sent to it (uvicorn raises its
            # ClientDisconnected, an OSError): its disconnect follows; nothing went wrong here.
            logger.info("socket gone during %s, %s: %r", message["type"], self.where(), error)
        except Exception:
            logger.exception("socket handler raised on %s, %s", message["type"], self.where())
            if message["type"] == "websocket.connect":
                await self.close(code=1011)

    async def group_join(self, group: str) -> None:
        """Join `group` (Channels leaves every group in self.groups on disconnect). If the layer
        is away, the group is kept and joined again at the next groups_renew."""
        self.groups.append(group)
        await broadcasts.group_add(group, self.channel_name)

    async def group_leave(self, group: str) -> None:
        self.groups.remove(group)
        await broadcasts.group_discard(group, self.channel_name)

    async def groups_renew(self) -> None:
        """Add this socket to its groups again: nothing for a pub/sub layer that never lost
        them, a re-subscription after the layer was away (or a Redis that came back empty)."""
        for group in self.groups:
            await broadcasts.group_add(group, self.channel_name)

    async def websocket_disconnect(self, message):
        # Channels leaves self.groups, then calls disconnect(): with the layer away, leaving
        # would raise before disconnect() ran, and presence and read markers would be lost.
        for group in self.groups:
            await broadcasts.group_discard(group, self.channel_name)
        self.groups = []
        await super().websocket_disconnect(message)

    async def access_ok(self, full: bool = True) -> bool:
        """Whether this socket may still act (its AccessGate, fully or cheaply); if not, it ends:
        4001 when the session ended, 4003 when the room no longer admits the user."""
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
