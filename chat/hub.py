"""A process's room hub: one channel-layer subscription per group and process, not per socket.

Channels gives each consumer a channel of its own, so a group event costs, per member socket, a
copy in the layer (the in-memory layer deep-copies it; Redis publishes it to each subscription),
a task wake-up and a dispatch. Here each process's sockets share one channel, `Hub.channel`: the
hub adds it to a group when its first local socket joins the group and discards it when the last
leaves, receives each event once, and hands it to the group's local sockets in turn
(ChatSocket.hub_event: at once when the socket is idle, else queued behind what it is doing, so
each socket still handles its frames and events one at a time, in order; a push for an idle
socket is written straight to its connection where the server allows: chat.express). The
events name their group (chat.broadcasts.group_send adds it). Everything else is unchanged: a
socket that misses an event repairs it at its next event or sync (chat.cursor), so the hub is
best effort as the layer is. One hub per event loop and channel layer (hub()), gone once no local socket is left.
See docs/architecture.md, "Fan-out".
"""

import asyncio
import logging

from channels.layers import get_channel_layer

from . import broadcasts

logger = logging.getLogger(__name__)

RETRY_SECONDS = 1.0  # after a failed receive (the layer away), the hub tries again this much later


class Hub:
    """The groups this process's sockets are in, and the one channel that receives their events.

    `groups` maps a group name to its local sockets (a dict used as an ordered set: events reach
    them in the order they joined). Sockets are ChatSocket instances (hub_event, where)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, layer):
        self.loop, self.layer = loop, layer
        self.channel: str | None = None
        self.groups: dict[str, dict] = {}
        self.task: asyncio.Task | None = None
        self.making = asyncio.Lock()

    async def join(self, group: str, socket) -> None:
        """Add `socket` to `group`; the first local socket subscribes the hub to it. A layer that
        is away is logged (broadcasts) and the subscription made again at the next renew()."""
        sockets = self.groups.setdefault(group, {})
        first = not sockets
        sockets[socket] = None
        if first and await self._channel_ready():
            await broadcasts.group_add(group, self.channel)

    async def leave(self, group: str, socket) -> None:
        """Remove `socket` from `group`; the last local socket unsubscribes the hub, and the last
        socket of all stops it."""
        sockets = self.groups.get(group)
        if sockets is None or sockets.pop(socket, False) is False or sockets:
            return
        del self.groups[group]
        if self.channel is not None:
            await self._unsubscribe(group, self.channel)
        self._stop_if_empty()

    async def _unsubscribe(self, group: str, channel: str) -> None:
        await broadcasts.group_discard(group, channel)
        if group in self.groups and channel == self.channel:
            await broadcasts.group_add(group, channel)  # a socket joined while it was discarded

    def forget(self, socket) -> None:
        """Drop `socket` from every group without a layer call (its task ended without leaving):
        an empty group is unsubscribed when its next event finds no one (deliver)."""
        for sockets in self.groups.values():
            sockets.pop(socket, None)

    def variants(self, group: str) -> list[str]:
        """The variants (their keys) of `group`'s local sockets, each once: with the in-memory
        layer, of every socket that can take the group's next event."""
        return list({socket.variant_key: None for socket in self.groups.get(group, ())})

    async def renew(self, groups: list[str]) -> None:
        """Subscribe the hub to `groups` again (a socket's sync): nothing for a layer that kept
        them, a new subscription after the layer was away or came back empty."""
        if await self._channel_ready():
            for group in groups:
                await broadcasts.group_add(group, self.channel)

    async def deliver(self, event: dict) -> None:
        """Hand `event` (from the layer, naming its `group`) to each local socket of its group;
        a group with none left is unsubscribed."""
        group = event.get("group")
        sockets = self.groups.get(group)
        if not sockets:
            self.groups.pop(group, None)
            if group and self.channel is not None:
                await self._unsubscribe(group, self.channel)
            return
        frames: dict = {}  # the event's frame, serialised once per variant (chat.express)
        for socket in list(sockets):
            try:
                if not socket.hub_express(event, frames):
                    await socket.hub_event(event)
            except Exception:
                logger.exception("hub: socket raised on %s, %s", event.get("type"), socket.where())

    async def _channel_ready(self) -> bool:
        """Whether the hub has a channel and a task receiving on it (made now if not); False,
        logged, when the layer is away."""
        async with self.making:  # sockets joining at once: one channel, one task
            if self.channel is None:
                try:
                    async with asyncio.timeout(broadcasts.LAYER_TIMEOUT_SECONDS):
                        self.channel = await self.layer.new_channel("hub.")
                except broadcasts.LAYER_ERRORS as error:
                    logger.info("hub: no channel yet, the layer is away: %r", error)
                    return False
            if self.task is None or self.task.done():
                self.task = self.loop.create_task(self._receive(self.channel))
        return True

    async def _receive(self, channel: str) -> None:
        while True:
            try:
                event = await self.layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the layer away: wait, then listen again
                logger.info("hub: receive failed, %r; again in %s s", error, RETRY_SECONDS)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            await self.deliver(event)

    def _stop_if_empty(self) -> None:
        if self.groups:
            return
        if _hubs.get((id(self.loop), id(self.layer))) is self:
            del _hubs[id(self.loop), id(self.layer)]
        if self.task is not None and self.task is not asyncio.current_task():
            self.task.cancel()  # a pub/sub layer drops a channel whose receive is cancelled
        self.task = self.channel = None


_hubs: dict[tuple[int, int], Hub] = {}


def hub() -> Hub:
    """This event loop's hub for the default channel layer (made at first use). Call it from the
    loop: it reads the running loop."""
    loop, layer = asyncio.get_running_loop(), get_channel_layer()
    found = _hubs.get((id(loop), id(layer)))
    if found is None or found.loop is not loop or found.layer is not layer:
        found = _hubs[id(loop), id(layer)] = Hub(loop, layer)
    return found
