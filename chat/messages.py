"""Posting a message: validate, number, save, and once committed broadcast."""

import uuid
from contextlib import nullcontext

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.profiles import display_name_kept

from . import attachments, broadcasts
from .formatting import mentioned_usernames, message_html
from .mentions import mentions_create, mentions_find
from .message_store import StoreUnavailable, message_store, message_store_async, one_statement_store
from .models import Membership, Message, Room
from .selectors import LogLine

ARCHIVED = _("This room is archived: it is read-only.")
STILL_SENDING = _("Your previous message was still being sent: send this one again.")
OTHER_ROOM = _("This composer's message went to another room: send it again.")


# A new message's validation checks its text (Message.body's rules: not blank, at most
# BODY_MAX_LENGTH). The room and author are objects in hand (no query for each foreign key), the
# other fields are set here, the id is the database's and so are the constraints (unique seq and key).
_NOT_VALIDATED = [field.name for field in Message._meta.fields if field.name != "body"]


def _message_new(*, room: Room, author, body: str, client_key: uuid.UUID | None) -> Message:
    """A message of `author` in `room`, its body validated (ValidationError), not saved; `created_at` now."""
    message = Message(room=room, author=author, body=body, client_key=client_key, created_at=timezone.now())
    message.clean_fields(exclude=_NOT_VALIDATED)
    return message


def message_create(*, room: Room, author, body: str, client_key: uuid.UUID | None = None) -> Message:
    """Save a message by `author` in `room` and, once committed, push it to the room's members.

    `body` is validated again here (non-blank, at most Message.BODY_MAX_LENGTH characters):
    ValidationError if not, with nothing saved or sent. The message takes the room's next `seq`
    under the room row's lock, so seq order is commit order; an archived room raises
    ValidationError(ARCHIVED). The author's read marker moves to their own message. If `author`
    already sent a message with this `client_key` (a resend), that message is returned and
    nothing new is saved or sent; if its text differs (a second message sent from the same
    composer before its reset came back), ValidationError(STILL_SENDING); if it went to another
    room, ValidationError(OTHER_ROOM). Database errors
    (`django.db.DatabaseError`) propagate, with nothing sent. `created_at` is now, in UTC.

    The body is stored formatted too (`body_html`, chat.formatting.message_html), its mentions of
    the room's members linked; those members (chat.mentions.mentions_find) get a Mention row,
    and the push names them. Queries: four in a transaction, plus one to find mentioned members
    and one to record them when the body mentions anyone, however many; on PostgreSQL, a
    message that mentions no one takes one statement (chat.message_store). The push reads the
    author's display name at most once a minute per process (display_name_recent).
    """
    message = _message_new(room=room, author=author, body=body, client_key=client_key)
    # Before the room's lock is taken: a long message takes milliseconds to format.
    mentioned = mentions_find(room=room, names=mentioned_usernames(message.body))
    message.body_html = message_html(message.body, mentions={user.get_username() for user in mentioned})
    try:
        previous, mentioned_ids = None, []
        if one_statement_store() and not mentioned:
            # One round trip. In a caller's transaction, in a savepoint: a refused key must
            # leave that transaction usable for the look-up below.
            with transaction.atomic() if connection.in_atomic_block else nullcontext():
                previous = message_store(message)  # None: the room is archived or gone (below says which)
        if previous is None:
            with transaction.atomic():
                fields = ("last_seq", "last_message_at", "last_author_id", "archived_at")
                locked = Room.objects.select_for_update().only(*fields).get(pk=room.pk)
                if locked.archived_at is not None:
                    raise ValidationError(ARCHIVED)
                message.seq = locked.last_seq + 1
                previous = (locked.last_author_id, locked.last_message_at)
                message.save()
                Room.objects.filter(pk=room.pk).update(
                    last_seq=message.seq, last_message_at=message.created_at, last_author=author
                )
                Membership.objects.filter(room=room, user=author).update(last_read_seq=message.seq)
                mentioned_ids = mentions_create(message=message, users=mentioned)
        attachments.attachments_restore(message, [])  # none yet: the push need not ask
        line = LogLine.after(message, author_id=previous[0], at=previous[1])
        transaction.on_commit(lambda: broadcasts.message_broadcast(line=line, mentioned=mentioned_ids))
    except IntegrityError:
        if client_key is not None:
            sent = Message.objects.filter(author=author, client_key=client_key).first()
            if sent is not None and sent.room_id != room.pk:
                # A key belongs to one room's composer: the same key here is no resend.
                raise ValidationError(OTHER_ROOM) from None
            if sent is not None and sent.body == message.body:
                return sent
            if sent is not None:
                # The same composer with other text: a second message typed before the first
                # one's reset came back. Refused, so that it is not taken for a resend and lost.
                raise ValidationError(STILL_SENDING) from None
        raise
    return message


async def message_create_async(*, room: Room, author, body: str, client_key: uuid.UUID | None = None) -> Message:
    """message_create, for a socket's event loop: the same arguments, result, errors and push.

    On PostgreSQL, a message that mentions no one, by an author whose display name this process
    read within the minute (accounts.profiles.display_name_kept), is stored from the loop in one
    statement on the loop's own connection (chat.message_store.message_store_async) and pushed
    from the loop once stored: no thread. Anything else (another database, a mention, an author's
    name to read again, an archived room, a resend, that connection busy or failing) is
    message_create on the thread pool, its push sent from the loop (broadcasts.sends_from_loop).
    """
    name = display_name_kept(author)
    if name is not None and one_statement_store() and not mentioned_usernames(body):
        message = _message_new(room=room, author=author, body=body, client_key=client_key)
        message.body_html = message_html(message.body, mentions=set())
        try:
            previous = await message_store_async(message)
        except StoreUnavailable:
            previous = None
        if previous is not None:
            attachments.attachments_restore(message, [])  # none: the push need not ask
            line = LogLine.after(message, author_id=previous[0], at=previous[1])
            await broadcasts.message_broadcast_async(line=line, name=name)
            return message
    # On the thread pool rather than Channels' single database thread: saves mostly wait on the
    # database, and messages of different rooms need not queue behind each other (a room's row
    # lock keeps its own messages in order). The push is sent from the loop after.
    in_thread = broadcasts.sends_from_loop(message_create)
    return await in_thread(room=room, author=author, body=body, client_key=client_key)
