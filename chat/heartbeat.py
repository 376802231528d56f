"""The connection tells the truth: every CHAT_HEARTBEAT_SECONDS each open room page is sent its
status ("Connected") and who is online, fresh. The page's CSS turns "Connected" into
"Reconnecting…" and hides "Online now" when no heartbeat has come for CHAT_STALE_SECONDS, so a
page whose server went away says so without any script (templates/chat/room/_status.html).

One task per process and event loop does it for all its room sockets: the status is rendered
once a beat per variant (language × time zone, chat.variants) present among them, the presence
list read once per room and rendered once per room and variant, and nothing crosses the channel
layer. A beat is written straight to each socket's connection where the server allows
(chat.express), serialised once per room and variant.
"""

import asyncio
import logging
import weakref

from django.conf import settings

from . import fragments, variants
from .express import text_frame
from .presence import presence_list

logger = logging.getLogger(__name__)


class Heartbeat:
    """The room sockets of one event loop, and the task that beats for them."""

    def __init__(self):
        self.sockets: weakref.WeakSet = weakref.WeakSet()
        self.task: asyncio.Task | None = None

    def add(self, socket) -> None:
        """Beat for `socket` (a RoomConsumer, with `room` and `send`) until it is discarded."""
        self.sockets.add(socket)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self.run())

    def discard(self, socket) -> None:
        self.sockets.discard(socket)

    async def run(self) -> None:
        while self.sockets:
            await asyncio.sleep(settings.CHAT_HEARTBEAT_SECONDS)
            await self.beat()

    async def beat(self) -> None:
        """Send every socket its status and its room's presence, each rendered once per variant."""
        online: dict[int, tuple] = {}
        status: dict[variants.Variant, str] = {}
        frames: dict[tuple[int, variants.Variant], str] = {}
        wired: dict[tuple[int, variants.Variant], bytes] = {}

        def wire(room_id: int, variant: variants.Variant) -> bytes:  # written directly: chat.express
            if (room_id, variant) not in wired:
                wired[room_id, variant] = text_frame(frames[room_id, variant])
            return wired[room_id, variant]

        for socket in list(self.sockets):
            room, variant = socket.room, socket.variant or variants.default_variant()
            if room.pk not in online:
                online[room.pk] = await presence_list(room_id=room.pk)
            if (room.pk, variant) not in frames:
                shown, total = online[room.pk]
                with variant.active():
                    status[variant] = status.get(variant) or fragments.status("connected", composer=True)
                    frames[room.pk, variant] = status[variant] + fragments.presence(shown=shown, total=total)
            try:
                if socket.express is None or not socket.express.write(wire(room.pk, variant)):
                    await socket.send(text_data=frames[room.pk, variant])
            except Exception:  # noqa: BLE001 - a socket closing under us must not stop the beat
                logger.debug("heartbeat not sent to a closing socket", exc_info=True)
                self.sockets.discard(socket)


_heartbeats: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Heartbeat]" = weakref.WeakKeyDictionary()


def heartbeat() -> Heartbeat:
    """This event loop's Heartbeat."""
    loop = asyncio.get_running_loop()
    if loop not in _heartbeats:
        _heartbeats[loop] = Heartbeat()
    return _heartbeats[loop]
