import json
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string

from .forms import MessageForm
from .models import Room
from .services import message_create

logger = logging.getLogger(__name__)

COMPOSER_PARTIAL = "chat/room_detail.html#message-form"
STATUS_PARTIAL = "chat/room_detail.html#room-status"

# Close codes (4000-4999 are the application's). htmx's ws extension never retries 4xxx,
# so a refused socket does not reconnect forever.
CLOSE_NOT_AUTHENTICATED = 4001
CLOSE_ROOM_NOT_FOUND = 4004


class RoomConsumer(AsyncWebsocketConsumer):
    """One member's live socket on one room, at `/ws/chat/<slug>/`.

    In: text frames from the htmx ws extension, a JSON object whose `message` is the composer's
    text (other keys, such as `HEADERS` or a forged `username`, are ignored: the author is always
    `scope["user"]`). Out: HTML fragments that htmx swaps out of band by id:
    - to the whole room, after the message is saved: the message (and a day separator if it opens
      a new day), rendered once by `services.message_broadcast`;
    - to the sender only: a fresh composer on success, or the composer with its error and the
      typed text kept, when the form rejects the message.
    On joining the room's group it sends the "Connected" status, replacing the page's
    "Connecting…" by id. Refusals: an anonymous socket is closed with 4001, an unknown room with 4004, after accept()
    so that the browser receives the code. A frame that is not a JSON object with a string
    `message` is ignored and the socket stays open.
    """

    room: Room | None = None

    async def connect(self):
        await self.accept()
        user = self.scope.get("user")
        slug = self.scope["url_route"]["kwargs"]["slug"]
        if user is None or not user.is_authenticated:
            logger.info("socket refused: not logged in, room=%s", slug)
            await self.close(code=CLOSE_NOT_AUTHENTICATED)
            return
        self.room = await Room.objects.filter(slug=slug).afirst()
        if self.room is None:
            logger.info("socket refused: no such room, room=%s user=%s", slug, user.pk)
            await self.close(code=CLOSE_ROOM_NOT_FOUND)
            return
        await self.channel_layer.group_add(self.room.group_name, self.channel_name)
        logger.info("socket connected: room=%s user=%s", slug, user.pk)
        # Only now can the reader miss nothing that is posted: say so on the page.
        await self.send(text_data=render_to_string(STATUS_PARTIAL, {"connected": True}))

    async def disconnect(self, code):
        if self.room is not None:
            await self.channel_layer.group_discard(self.room.group_name, self.channel_name)
            logger.info(
                "socket disconnected: room=%s user=%s code=%s", self.room.slug, self.scope["user"].pk, code
            )

    async def receive(self, text_data=None, bytes_data=None):
        if self.room is None or text_data is None:
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            return
        if not isinstance(frame, dict) or not isinstance(frame.get("message"), str):
            return
        form = MessageForm({"message": frame["message"]})
        if form.is_valid():
            try:
                await database_sync_to_async(message_create)(
                    room=self.room, author=self.scope["user"], body=form.cleaned_data["message"]
                )
            except ValidationError as error:
                form.add_error("message", error.messages)
            else:
                form = MessageForm()
        await self.send(text_data=render_to_string(COMPOSER_PARTIAL, {"form": form}))

    async def chat_message(self, event):
        """A message saved in this room: forward its fragment, rendered once for everyone."""
        await self.send(text_data=event["html"])
