"""The audit trail of edited and deleted messages (a model of chat.models, kept in its own file)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class MessageRevision(models.Model):
    """One change to `message` by `actor` (None once that user is deleted): `kind` "edit" or
    "delete", `body_before` the text as it was before it, `at` when (UTC).

    `change_seq` numbers a room's changes 1, 2, 3... with no gap, under the room row's lock
    (Room.last_change_seq), so a page that has changes up to N and is shown N + 2 knows it missed
    one; `room` repeats the message's, so that a room's changes after N are one index range.
    Written only by chat.edits; read-only in the admin.
    """

    EDIT = "edit"
    DELETE = "delete"
    KINDS = [(EDIT, _("edit")), (DELETE, _("delete"))]

    message = models.ForeignKey("chat.Message", on_delete=models.CASCADE, related_name="revisions")
    room = models.ForeignKey("chat.Room", on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=6, choices=KINDS)
    body_before = models.TextField()
    at = models.DateTimeField(default=timezone.now)
    change_seq = models.PositiveBigIntegerField()

    class Meta:
        ordering = ["room", "change_seq"]
        constraints = [models.UniqueConstraint(fields=["room", "change_seq"], name="chat_revision_room_change_seq")]

    def __str__(self) -> str:
        return f"{self.kind} of message {self.message_id} by {self.actor_id}"
