import unicodedata
import uuid

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.utils.translation import gettext_lazy as _

from .models import Message, Room


class RoomForm(forms.Form):
    """The room index's "go to room" box: any name people type, accents and emoji included."""

    name = forms.CharField(label=_("Room name"), max_length=Room.NAME_MAX_LENGTH, strip=True)
    is_private = forms.BooleanField(label=_("Private: only the people I invite can see it"), required=False)


class DirectForm(forms.Form):
    """Start a direct conversation: the usernames of the other people, separated by spaces or
    commas (one name for a one-to-one conversation)."""

    usernames = forms.CharField(label=_("Message someone"), max_length=1500, strip=True)

    def clean_usernames(self) -> list[str]:
        return self.cleaned_data["usernames"].replace(",", " ").split()


class RoomSettingsForm(forms.Form):
    """A room's settings page: its name and description (the slug, and so its links, stay).
    Whether another room has the name is for the service to say (room_update)."""

    name = forms.CharField(label=_("Name"), max_length=Room.NAME_MAX_LENGTH, strip=True)
    description = forms.CharField(
        label=_("Description"),
        max_length=Room.DESCRIPTION_MAX_LENGTH,
        required=False,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the room is for, shown under its name."),
    )


class InviteForm(forms.Form):
    """Add someone to a private room by their username."""

    username = forms.CharField(label=_("Username"), max_length=150, strip=True)


UNSTORABLE = _("That message has characters that cannot be sent.")


def _storable(text: str) -> bool:
    """Whether `text` encodes as UTF-8 (a lone surrogate does not)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class MessageForm(forms.Form):
    """The composer. Its fields are `message`, as the htmx ws extension sends it in each frame,
    and `key`, the composer's idempotency key: a fresh UUID each time the composer is rendered
    unbound, so the same form sent twice is one message."""

    message = forms.CharField(
        label=_("Message"),
        max_length=Message.BODY_MAX_LENGTH,
        strip=True,
        error_messages={"required": _("Type a message before sending.")},
    )
    key = forms.UUIDField(
        widget=forms.HiddenInput,
        initial=uuid.uuid4,
        error_messages={
            "required": _("This page is out of date: reload it to send messages."),
            "invalid": _("This page is out of date: reload it to send messages."),
        },
    )

    def clean_message(self) -> str:
        """The text as typed, refused if it shows nothing (only spaces, invisible format
        characters such as zero-width or direction marks, or lone combining marks) or holds
        characters no database can store (a lone surrogate, e.g. from a JSON "\\ud800")."""
        text = self.cleaned_data["message"]
        if not _storable(text):
            raise forms.ValidationError(UNSTORABLE, code="unstorable")
        if all(unicodedata.category(character)[0] in "CZM" for character in text):
            raise forms.ValidationError(self.fields["message"].error_messages["required"], code="required")
        return text

    def clean(self) -> dict:
        """The message is stored under a key derived from the composer's key and its text
        (UUID 5): the same form sent again (a double click, a resent queue, "Try again") is one
        message, while a second text sent before the composer's fresh key came back is another
        one, not a resend. (The same text twice within one round trip is one message.)"""
        cleaned = super().clean()
        if "key" in cleaned and "message" in cleaned:
            cleaned["key"] = uuid.uuid5(cleaned["key"], cleaned["message"])
        return cleaned

    def clean_key(self) -> uuid.UUID:
        """The composer's key: a UUID of RFC 4122's variant, as the server makes them (uuid4).
        Another variant is no key of ours, and MariaDB's UUID column refuses some of them."""
        key = self.cleaned_data["key"]
        if key.variant != uuid.RFC_4122:
            raise forms.ValidationError(self.fields["key"].error_messages["invalid"], code="invalid")
        return key

    @staticmethod
    def quick_clean(data: dict) -> dict | None:
        """The cleaned data of a composer frame's `data` (`message` and `key`, as the form takes
        them) when they are plainly valid: what is_valid() and cleaned_data would give, without
        binding a form (whose fields are deep-copied each time: a tenth of a message's server
        CPU). None when they may not be (not a string, blank once stripped, too long, a null
        character or one no database stores, a first character that shows nothing, a key that
        is no canonical RFC 4122 UUID): bind the form then, for its errors. Tests hold the two
        to the same answers."""
        text, key = data.get("message"), data.get("key")
        if not isinstance(text, str) or not isinstance(key, str) or len(key) != 36:
            return None
        text = text.strip()
        if not text or len(text) > Message.BODY_MAX_LENGTH or "\x00" in text:
            return None
        if unicodedata.category(text[0])[0] in "CZM" or not (text.isascii() or _storable(text)):
            return None
        try:
            key = uuid.UUID(key)
        except ValueError:
            return None
        if key.variant != uuid.RFC_4122:
            return None
        return {"message": text, "key": uuid.uuid5(key, text)}

    @classmethod
    def refused(cls, *, message: str, error: str) -> "MessageForm":
        """The composer after a refusal: `error` shown, the typed `message` kept, and a fresh key
        (nothing was stored under the old one, so sending the text again is a new message)."""
        form = cls({"message": message, "key": uuid.uuid4()})
        form.errors.clear()
        form.errors[NON_FIELD_ERRORS] = form.error_class([error])
        return form
