"""Editing and deleting messages: who may, the audit row, and once committed one push to the page.

Rules (issue #14, "Edit and delete"): an author edits or deletes their own message within
CHAT_EDIT_SECONDS of posting it (default 900, 15 minutes); staff and the room's managers
(Room.can_manage) delete any message, any time; nothing changes in an archived room. Every
change takes the room's next change number under the room row's lock and writes a
MessageRevision with the text before it; pages get it in order (chat.changes).
"""

import datetime

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import broadcasts
from .changes import changed_push
from .formatting import mentioned_usernames, message_html
from .forms import MessageForm
from .mentions import mentions_create, mentions_find
from .messages import ARCHIVED
from .models import Mention, Message, MessageRevision, Room

NOT_YOURS = _("Only its author can edit a message.")
NOT_YOURS_TO_DELETE = _("Only its author, the room's managers and staff can delete a message.")
TOO_LATE = _("Messages can be edited or deleted only for %(minutes)s minutes after they are sent.")
DELETED = _("This message was deleted.")


def edit_seconds() -> int:
    """How long (seconds) after posting its author may edit or delete a message:
    settings.CHAT_EDIT_SECONDS, default 900."""
    return int(getattr(settings, "CHAT_EDIT_SECONDS", 900))


class MessageEditForm(MessageForm):
    """The edit page's form: the composer's `message` field and its rules, without a key."""

    key = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["message"].widget = forms.Textarea(attrs={"rows": 4, "dir": "auto"})


def _within_window(message: Message) -> bool:
    return timezone.now() - message.created_at <= datetime.timedelta(seconds=edit_seconds())


def _change(*, message: Message, actor, kind: str, apply) -> Message:
    """Under the room row's lock: refuse an archived room or a deleted message, take the next
    change number, write the revision, `apply(locked message)` and save it, and on commit push
    its bubble to the room's page. Returns the message as saved."""
    with transaction.atomic():
        room = Room.objects.select_for_update().only("last_change_seq", "archived_at", "slug").get(pk=message.room_id)
        if room.archived_at is not None:
            raise ValidationError(ARCHIVED)
        # Read under the room's lock, which every change takes: no other change is under way.
        locked = Message.objects.select_related("author__profile").get(pk=message.pk)
        if locked.deleted_at is not None:
            raise ValidationError(DELETED)
        change_seq = room.last_change_seq + 1
        MessageRevision.objects.create(
            message=locked, room=room, actor=actor, kind=kind, body_before=locked.body, change_seq=change_seq
        )
        apply(locked)
        locked.save(update_fields=["body", "body_html", "edited_at", "deleted_at"])
        Room.objects.filter(pk=room.pk).update(last_change_seq=change_seq)
        locked.room = room

        def push() -> None:
            bubble = changed_push(message=locked, change_seq=change_seq)
            broadcasts.message_changed_broadcast(room=room, seq=locked.seq, change_seq=change_seq, push=bubble)

        transaction.on_commit(push)
    return locked


def message_edit(*, message: Message, editor, body: str) -> Message:
    """Replace `message`'s text by `body` as `editor`, and return it as saved.

    `body` is validated as the composer validates a new message (MessageEditForm: not blank or
    invisible, storable, at most Message.BODY_MAX_LENGTH characters), then formatted again
    (chat.formatting.message_html) with its mentions of the room's members linked, and its
    Mention rows made to match (new mentions are not pushed to sidebars). `edited_at` is now
    (UTC). The same text again changes nothing and returns the message as it is.

    Raises PermissionDenied(NOT_YOURS) if `editor` is not its author, PermissionDenied(TOO_LATE)
    past edit_seconds() after it was sent; ValidationError for an invalid body, an archived room
    (ARCHIVED) or a deleted message (DELETED). Once committed, one `message.changed` push.
    """
    if message.author_id != editor.pk:
        raise PermissionDenied(NOT_YOURS)
    if not _within_window(message):
        raise PermissionDenied(TOO_LATE % {"minutes": edit_seconds() // 60})
    form = MessageEditForm({"message": body})
    if not form.is_valid():
        raise ValidationError(form.errors["message"].as_data())
    body = form.cleaned_data["message"]
    if body == message.body and message.deleted_at is None:
        return message
    # Before the room's lock is taken, as message_create does: formatting takes milliseconds.
    mentioned = mentions_find(room=message.room, names=mentioned_usernames(body))
    body_html = message_html(body, mentions={user.get_username() for user in mentioned})

    def apply(locked: Message) -> None:
        locked.body, locked.body_html, locked.edited_at = body, body_html, timezone.now()
        Mention.objects.filter(message=locked).exclude(user__in=[user.pk for user in mentioned]).delete()
        already = set(Mention.objects.filter(message=locked).values_list("user_id", flat=True))
        mentions_create(message=locked, users=[user for user in mentioned if user.pk not in already])

    return _change(message=message, actor=editor, kind=MessageRevision.EDIT, apply=apply)


def message_delete(*, message: Message, actor) -> Message:
    """Delete `message` as `actor`, leaving a placeholder: its body and body_html emptied,
    `deleted_at` now (UTC), its mentions gone; the text before is kept in its MessageRevision.
    Returns the message as saved. Deleting a deleted message changes nothing.

    Allowed for its author within edit_seconds() of sending it, and for staff and the room's
    managers (Room.can_manage) at any time; else PermissionDenied (NOT_YOURS_TO_DELETE, or
    TOO_LATE for its author). ValidationError(ARCHIVED) in an archived room. Once committed,
    one `message.changed` push.
    """
    if message.deleted_at is not None:
        return message
    manager = actor.is_staff or message.room.can_manage(actor)
    if not manager and message.author_id != actor.pk:
        raise PermissionDenied(NOT_YOURS_TO_DELETE)
    if not manager and not _within_window(message):
        raise PermissionDenied(TOO_LATE % {"minutes": edit_seconds() // 60})

    def apply(locked: Message) -> None:
        locked.body, locked.body_html, locked.deleted_at = "", "", timezone.now()
        Mention.objects.filter(message=locked).delete()

    try:
        return _change(message=message, actor=actor, kind=MessageRevision.DELETE, apply=apply)
    except ValidationError as error:
        if error.messages == [str(DELETED)]:
            return Message.objects.get(pk=message.pk)  # deleted meanwhile (a double click): done
        raise
