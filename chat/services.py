"""Everything that changes chat state goes through these functions (HackSoft's `<entity>_<action>`).

Consumers and views validate user input with forms, then call a service; the service saves and,
only after the database commits, broadcasts (Zulip's `send_event_on_commit`): nothing is ever
pushed that was not saved.
"""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify

from .models import Message, Room

MESSAGE_PUSH_PARTIAL = "chat/room_detail.html#message-push"


def _room_slug_available(name: str) -> str:
    """A slug for a new room named `name` that no room has yet: ASCII, at most 50 characters.

    Accents are folded to ASCII by Django's `slugify` ("Café año" -> "cafe-ano"); a name with no
    ASCII letters left (emoji only) becomes "room"; a taken slug gets "-2", "-3"...
    """
    base = slugify(name)[: Room.SLUG_MAX_LENGTH - 6].strip("-") or "room"
    taken = set(Room.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def room_get_or_create(*, name: str) -> tuple[Room, bool]:
    """Return `(room, created)` for the room called `name`, creating it if it is new.

    `name` must already be valid (non-blank, at most Room.NAME_MAX_LENGTH characters). Names
    match whatever their case, accents composed or not, and spacing (`Room.key_for`). Two
    requests creating the same name at once get the same room: the loser of the race hits the
    unique constraint and reads the winner's row.
    """
    name = Room.normalize_name(name)
    for _attempt in range(3):
        room = Room.objects.filter(name_key=Room.key_for(name)).first()
        if room is not None:
            return room, False
        try:
            with transaction.atomic():
                return Room.objects.create(name=name, slug=_room_slug_available(name)), True
        except IntegrityError:
            continue  # Someone took the name or the slug in between: look again.
    raise IntegrityError(f"Could not create a room named {name!r}")


def message_history(*, room: Room, limit: int | None = None) -> list[Message]:
    """The latest `limit` messages of `room` (default settings.CHAT_HISTORY_LIMIT), oldest first.

    One query, authors joined; uses the (room, id) index.
    """
    limit = settings.CHAT_HISTORY_LIMIT if limit is None else limit
    latest = room.messages.select_related("author").order_by("-id")[:limit]
    return list(reversed(latest))


def message_create(*, room: Room, author: AbstractBaseUser, body: str) -> Message:
    """Save a message by `author` in `room` and, once committed, push it to the room's group.

    `body` is validated again here (non-blank, at most Message.BODY_MAX_LENGTH characters) and
    raises `django.core.exceptions.ValidationError` if invalid; nothing is saved or sent then.
    The room's `last_message_at` moves in the same transaction. Returns the saved message.
    """
    message = Message(room=room, author=author, body=body, created_at=timezone.now())
    message.full_clean()
    with transaction.atomic():
        message.save()
        Room.objects.filter(pk=room.pk).update(last_message_at=message.created_at)
        transaction.on_commit(lambda: message_broadcast(message=message))
    return message


def message_broadcast(*, message: Message) -> None:
    """Render `message` once as an out-of-band fragment and send it to its room's group.

    The fragment starts a new day separator when the message is the first of its day (in the
    site's time zone) in its room. Every member receives the same text: what differs per reader
    ("mine" or "theirs") is styled by the reader's page, so fan-out costs no render or query
    per recipient. Call it from synchronous code, after the message is committed.
    """
    previous = (
        Message.objects.filter(room_id=message.room_id, id__lt=message.id)
        .order_by("-id")
        .values_list("created_at", flat=True)
        .first()
    )
    new_day = previous is None or timezone.localdate(previous) != message.day
    html = render_to_string(MESSAGE_PUSH_PARTIAL, {"message": message, "new_day": new_day})
    async_to_sync(_group_send)(message.room.group_name, {"type": "chat.message", "html": html})


async def _group_send(group: str, event: dict) -> None:
    # The layer is looked up inside the event loop: the Redis pub/sub layer keeps one
    # connection per loop and cannot be touched from synchronous code.
    await get_channel_layer().group_send(group, event)
