"""A message sent from a room's composer: validated, rate-limited, saved; the sender answered."""

import logging
import uuid

from channels.db import database_sync_to_async
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.utils.translation import gettext_lazy as _

from . import fragments
from .forms import MessageForm
from .frames import Discard, Post
from .messages import message_create_async
from .models import Message
from .ratelimits import message_rate_allowed, message_rate_count

logger = logging.getLogger(__name__)

TOO_LARGE = _("That message is too large to send.")
TOO_FAST = _("You are sending messages too fast: wait a moment, then send again.")
NOT_SAVED = _("Your message could not be saved. Try again in a moment.")


async def composer_submit(*, room, user, post: Post) -> MessageForm | None:
    """Validate `post` with MessageForm, check `user`'s rate limits, and save it as `user`'s
    message in `room` (message_create_async pushes it once stored); only a stored message
    counts against the limits.

    Returns None when the message is stored (or was already: a resend, even over the limit):
    the composer starts afresh. Else the bound form, with its error and the typed text kept.
    Nothing raises: a refusal (invalid, too fast, archived room, a database failure) is the
    answer.
    """
    data = {"message": post.message, "key": post.key}
    cleaned = MessageForm.quick_clean(data)  # None: the form says whether, and why not
    if cleaned is None:
        form = MessageForm(data)
        if not form.is_valid():
            return form
        cleaned = form.cleaned_data
    if not await message_rate_allowed(user.pk):
        if await _already_stored(room=room, author=user, client_key=cleaned["key"]):
            return None
        return _refused(data, TOO_FAST)
    try:
        await message_create_async(room=room, author=user, body=cleaned["message"], client_key=cleaned["key"])
    except ValidationError as error:
        return MessageForm.refused(message=post.message, error=" ".join(error.messages))
    except DatabaseError:
        logger.exception("message not saved: room=%s user=%s", room.slug, user.pk)
        return _refused(data, NOT_SAVED)
    await message_rate_count(user.pk)
    return None


def _refused(data: dict, error) -> MessageForm:
    """The composer's form bound to `data` (valid), with `error` added."""
    form = MessageForm(data)
    form.add_error(None, error)
    return form


@database_sync_to_async
def _already_stored(*, room, author, client_key) -> bool:
    return Message.objects.filter(room=room, author=author, client_key=client_key).exists()


async def composer_reply(*, room, user, post: Post) -> str:
    """composer_submit `post`, and the fragment that answers its sender: a fresh key for the
    composer once stored (and its card deleted, if it was a card's retry), else the refused
    message's card with the reason and the text kept (fragments.composer_answer)."""
    form = await composer_submit(room=room, user=user, post=post)
    card = _card(post.key)
    if form is None:
        return fragments.composer_answer(card=card if post.retry else None, key=None if post.retry else uuid.uuid4())
    error = " ".join(" ".join(errors) for errors in form.errors.values())
    fresh = None if post.retry else MessageForm()
    return fragments.composer_answer(card=card, error=error, text=post.message, retry=post.retry, form=fresh)


def composer_discard(discard: Discard) -> str:
    """The refused message's card `discard.key` deleted ("" if the key is no UUID)."""
    card = _card(discard.key, fresh=False)
    return fragments.composer_answer(card=card) if card else ""


def composer_too_large() -> str:
    """The answer to a frame over CHAT_FRAME_MAX_BYTES: a card saying so (its text unread)."""
    return fragments.composer_answer(card=str(uuid.uuid4()), error=TOO_LARGE, form=MessageForm())


def _card(key, *, fresh: bool = True) -> str | None:
    """`key` as a card's id (the canonical UUID string); if it is none, a new one (`fresh`)
    or None."""
    try:
        return str(uuid.UUID(str(key)))
    except ValueError:
        return str(uuid.uuid4()) if fresh else None
