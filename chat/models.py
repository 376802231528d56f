import unicodedata
import uuid

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone


class Room(models.Model):
    """A place where members talk. `name` is what people type; `slug` is its ASCII identity.

    The slug names the room in URLs and in the channel layer, whose group names must be ASCII
    and shorter than 100 characters (Channels' rule), so it is capped at SLUG_MAX_LENGTH.
    A public room is listed for everyone, and whoever opens it joins it. A private room is
    invisible to non-members (its name is not reserved either: `name_key` is None), and its
    members invite others. A direct conversation is a private room whose `direct_key` names its
    set of people, so that each set has exactly one. An archived room is read-only.
    """

    NAME_MAX_LENGTH = 80
    SLUG_MAX_LENGTH = 50
    DESCRIPTION_MAX_LENGTH = 300

    name = models.CharField(max_length=NAME_MAX_LENGTH)
    # What makes two names the same room, computed on save: compared in Python, not with the
    # database's LOWER()/ILIKE, which fold only ASCII on SQLite ("AÑO" != "año").
    name_key = models.CharField(max_length=4 * NAME_MAX_LENGTH, unique=True, null=True, editable=False)
    slug = models.SlugField(max_length=SLUG_MAX_LENGTH, unique=True, allow_unicode=False)
    description = models.CharField(max_length=DESCRIPTION_MAX_LENGTH, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_message_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # The `seq` of the room's newest message: each message takes the next one, under this
    # row's lock, so a room's messages are numbered 1, 2, 3... in commit order.
    last_seq = models.PositiveBigIntegerField(default=0, editable=False)
    # Who wrote the newest message: the next one by the same author soon after joins its group.
    last_author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, editable=False, on_delete=models.SET_NULL, related_name="+"
    )
    # The change_seq of the room's newest edit or deletion (chat.edits), taken under this row's lock.
    last_change_seq = models.PositiveBigIntegerField(default=0, editable=False)
    is_private = models.BooleanField(default=False)
    # A direct conversation's people, as their sorted user ids ("3,7,12"): unique, so that one set
    # of people has one conversation however many times, and by whom, it is started.
    direct_key = models.CharField(max_length=255, unique=True, null=True, blank=True, editable=False)
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="rooms")

    class Meta:
        ordering = [models.F("last_message_at").desc(nulls_last=True), "-created_at"]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def normalize_name(name: str) -> str:
        """A name as stored: NFC-normalised, trimmed, inner white space collapsed to one space."""
        return " ".join(unicodedata.normalize("NFC", name).split())

    @classmethod
    def key_for(cls, name: str) -> str:
        """The `name_key` of `name`: normalised and case-folded ("  Café AÑO" -> "café año")."""
        return cls.normalize_name(name).casefold()

    def save(self, *args, **kwargs):
        self.name = self.normalize_name(self.name)
        self.name_key = None if self.is_private else self.key_for(self.name)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("chat:room_detail", kwargs={"slug": self.slug})

    @property
    def is_direct(self) -> bool:
        return self.direct_key is not None

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def admits(self, user) -> bool:
        """Whether `user` may open this room: anyone a public room, its members a private one
        (one query, for a private room only)."""
        return not self.is_private or self.memberships.filter(user=user).exists()

    def can_manage(self, user) -> bool:
        """Whether `user` may change this room's settings and remove its members: its creator
        and staff, in any room but a direct conversation, whose name and people are fixed.
        (Archived rooms refuse changes on their own: see `is_archived`.)"""
        return not self.is_direct and (user.is_staff or user.pk == self.created_by_id)

    def can_remove_members(self, user) -> bool:
        """Whether `user` may remove other members: a manager, in a private room only (anyone
        may open a public room again, so removing them there would mean nothing)."""
        return self.is_private and self.can_manage(user)


class Message(models.Model):
    """One message posted in a room. `created_at` is stored in UTC. `body` is the text as typed
    (the source); `body_html` its formatted, allow-list sanitised HTML (chat/formatting.py).

    `seq` numbers a room's messages 1, 2, 3... with no gap, in the order they were stored: a
    reader who has seq N and is shown N + 2 knows it missed N + 1. `client_key` is the sending
    composer's idempotency key: the same key from the same author is one message, however many
    times it is sent (a resent queue, a double click).
    """

    BODY_MAX_LENGTH = 4000

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="messages")
    body = models.TextField(validators=[MaxLengthValidator(BODY_MAX_LENGTH)])
    # chat.formatting.message_html(body), rendered once when the message is saved. The database's
    # own default too: bulk loads (bench/load_history.py's COPY) leave it empty, and the bubble
    # then shows the source as text.
    body_html = models.TextField(editable=False, default="", db_default="")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    seq = models.PositiveBigIntegerField(editable=False)
    client_key = models.UUIDField(null=True, blank=True, editable=False)
    # Set by chat.edits: when the text was last edited, and when the message was deleted (its
    # body then empty; the text before is in its MessageRevision rows).
    edited_at = models.DateTimeField(null=True, blank=True, editable=False)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["room", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["room", "seq"], name="chat_message_room_seq"),
            models.UniqueConstraint(fields=["author", "client_key"], name="chat_message_author_client_key"),
        ]

    def __str__(self) -> str:
        return f"{self.author} in {self.room}: {self.body[:40]}"

    @property
    def day(self):
        """The calendar day (a `date`) this message was posted on, in the current time zone."""
        return timezone.localdate(self.created_at)


class Membership(models.Model):
    """A user's place in a room: joined when they open a public room or are invited to a
    private one. `last_read_seq` is the seq of the newest message they have read there."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    joined_at = models.DateTimeField(default=timezone.now)
    last_read_seq = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="chat_membership_room_user")]

    def __str__(self) -> str:
        return f"{self.user} in {self.room}"


class Mention(models.Model):
    """`user` is mentioned by `message` (`@username`, or `@here` while they had the room open).

    Only members of the message's room are mentioned, and never its author. `room` and `seq`
    repeat the message's, so that a reader's unread mentions (seq after their read marker) are
    one index range per room of theirs.
    """

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="mentions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentions")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+")
    seq = models.PositiveBigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "message"], name="chat_mention_user_message")]
        indexes = [models.Index(fields=["user", "room", "seq"], name="chat_mention_user_room_seq")]

    def __str__(self) -> str:
        return f"{self.user} in message {self.message_id}"


def attachment_upload_to(instance, filename: str) -> str:
    """Where an attachment's file goes: a folder named by a random UUID, so that no address can be
    guessed from another's, then the name chat.attachments made safe."""
    return f"attachments/{uuid.uuid4().hex}/{filename}"


class Attachment(models.Model):
    """A file attached to `message`, kept in Django's default storage (never served by its URL:
    chat.attachment_views checks the reader first). `content_type` is what chat.attachments
    found in its bytes, not what the uploader claimed; `size` is in bytes, as stored. An image
    is re-encoded (no EXIF) with its `width` and `height` in pixels and a `thumbnail` (WebP,
    at most chat.attachments.THUMBNAIL_PIXELS a side); other files have neither."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_upload_to, max_length=255)
    thumbnail = models.FileField(upload_to=attachment_upload_to, max_length=255, blank=True)
    original_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.original_name} in message {self.message_id}"

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class Reaction(models.Model):
    """`user` reacted to `message` with `emoji` (one of chat.reactions' palette, as typed: "👍").

    One row per (message, user, emoji): a second add of the same reaction (a double click, a
    resend after a reconnect) is refused by the database, so toggling is idempotent. On MariaDB
    `emoji` compares byte for byte (utf8mb4_bin, migration 0008): its default collation takes
    every emoji outside the BMP for the same letter ("👍" = "😂").
    """

    EMOJI_MAX_LENGTH = 32  # code points: a ZWJ sequence (a family) takes up to eleven

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reactions")
    emoji = models.CharField(max_length=EMOJI_MAX_LENGTH)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "user", "emoji"], name="chat_reaction_message_user_emoji")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.emoji} message {self.message_id}"


from .revisions import MessageRevision  # noqa: E402, F401  (its own module: this one is at its size limit)
