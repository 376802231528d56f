import uuid

from django import forms

from .models import Message, Room


class RoomForm(forms.Form):
    """The room index's "go to room" box: any name people type, accents and emoji included."""

    name = forms.CharField(label="Room name", max_length=Room.NAME_MAX_LENGTH, strip=True)
    is_private = forms.BooleanField(
        label="Private: only the people I invite can see it", required=False
    )


class InviteForm(forms.Form):
    """Add someone to a private room by their username."""

    username = forms.CharField(label="Username", max_length=150, strip=True)


class MessageForm(forms.Form):
    """The composer. Its fields are `message`, as the htmx ws extension sends it in each frame,
    and `key`, the composer's idempotency key: a fresh UUID each time the composer is rendered
    unbound, so the same form sent twice is one message."""

    message = forms.CharField(
        label="Message",
        max_length=Message.BODY_MAX_LENGTH,
        strip=True,
        error_messages={"required": "Type a message before sending."},
        # While its text changes, the input itself sends a typing frame over the room's socket,
        # at most every 3 s; hx-vals marks it so that the server does not take it for a message.
        widget=forms.TextInput(
            attrs={"ws-send": "", "hx-trigger": "input changed throttle:3s", "hx-vals": '{"typing": true}'}
        ),
    )
    key = forms.UUIDField(
        widget=forms.HiddenInput,
        initial=uuid.uuid4,
        error_messages={
            "required": "This page is out of date: reload it to send messages.",
            "invalid": "This page is out of date: reload it to send messages.",
        },
    )
