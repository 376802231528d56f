from django import forms

from .models import Message, Room


class RoomForm(forms.Form):
    """The room index's "go to room" box: any name people type, accents and emoji included."""

    name = forms.CharField(label="Room name", max_length=Room.NAME_MAX_LENGTH, strip=True)


class MessageForm(forms.Form):
    """The composer. Its field is `message`, as the htmx ws extension sends it in each frame."""

    message = forms.CharField(
        label="Message",
        max_length=Message.BODY_MAX_LENGTH,
        strip=True,
        error_messages={"required": "Type a message before sending."},
    )
