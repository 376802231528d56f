"""A message sent from a room's composer: validated, rate-limited, saved; the sender answered."""

import logging

from channels.db import database_sync_to_async
from django.core.exceptions import ValidationError
from django.db import DatabaseError

from . import fragments
from .forms import MessageForm
from .frames import Post
from .messages import message_create
from .models import Message
from .ratelimits import message_rate_allowed, message_rate_count

logger = logging.getLogger(__name__)

TOO_LARGE = "That message is too large to send."
TOO_FAST = "You are sending messages too fast: wait a moment, then send again."
NOT_SAVED = "Your message could not be saved. Try again in a moment."

# Saves run on the thread pool rather than Channels' single database thread: they mostly wait
# on the database, and messages of different rooms need not queue behind each other (a room's
# row lock keeps its own messages in order).
save_message = database_sync_to_async(message_create, thread_sensitive=False)


async def composer_submit(*, room, user, post: Post) -> MessageForm:
    """Validate `post` with MessageForm, check `user`'s rate limits, and save it as `user`'s
    message in `room` (message_create broadcasts it once committed); only a stored message
    counts against the limits.

    Returns the sender's composer form: unbound (empty, with a fresh key) when the message is
    stored (or was already: a resend, even over the limit), else bound, with its error and the
    typed text kept. Nothing raises: a refusal (invalid, too fast, archived room, a database
    failure) is the answer.
    """
    form = MessageForm({"message": post.message, "key": post.key})
    if not form.is_valid():
        return form
    if not await message_rate_allowed(user.pk):
        if await _already_stored(room=room, author=user, client_key=form.cleaned_data["key"]):
            return MessageForm()
        form.add_error(None, TOO_FAST)
        return form
    try:
        await save_message(
            room=room, author=user, body=form.cleaned_data["message"], client_key=form.cleaned_data["key"]
        )
    except ValidationError as error:
        form = MessageForm.refused(message=post.message, error=" ".join(error.messages))
    except DatabaseError:
        logger.exception("message not saved: room=%s user=%s", room.slug, user.pk)
        form.add_error(None, NOT_SAVED)
    else:
        await message_rate_count(user.pk)
        form = MessageForm()
    return form


@database_sync_to_async
def _already_stored(*, room, author, client_key) -> bool:
    return Message.objects.filter(room=room, author=author, client_key=client_key).exists()


def composer_too_large(*, room) -> str:
    """The composer for a sender whose frame was over CHAT_FRAME_MAX_BYTES (its text unread)."""
    return fragments.composer(room=room, form=MessageForm.refused(message="", error=TOO_LARGE))
