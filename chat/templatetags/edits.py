"""`{% load edits %}`: what the bubble's "Edit" link says about the editing window (chat.edits)."""

from django import template
from django.utils.translation import ngettext

from chat.edits import edit_seconds

register = template.Library()


@register.simple_tag
def edit_link_title() -> str:
    """The "Edit" link's title, in the active language: the author may edit or delete their
    message for CHAT_EDIT_SECONDS (in whole minutes) after sending it; the server enforces it."""
    minutes = edit_seconds() // 60
    return ngettext(
        "Edit or delete your message: possible for %(minutes)s minute after sending it",
        "Edit or delete your message: possible for %(minutes)s minutes after sending it",
        minutes,
    ) % {"minutes": minutes}
