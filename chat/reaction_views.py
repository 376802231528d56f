"""The view behind a reaction's button: toggle it (chat.reactions), for htmx or a plain POST."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from .ratelimits import action_allowed
from .reactions import reaction_toggle
from .selectors import rooms_visible_to

TOO_MANY_REACTIONS = gettext_lazy("You have reacted many times lately: wait a moment before reacting again.")


@login_required
@require_POST
def message_react(request, slug):
    """Toggle the reader's reaction `reaction` ("<message pk>:<emoji>", the bar's buttons
    submitting the room page's #reaction-form) to a message of the room (chat.reactions).
    204 to htmx (the new bar comes through the socket); without JavaScript, back to the
    message, with the refusal's notice if any (to htmx: 429 rate-limited, 400 refused). A 404
    for a room the reader may not see or a message not in it; rate-limited per user and address
    (CHAT_REACTION_RATE_LIMITS)."""
    room = get_object_or_404(rooms_visible_to(request.user), slug=slug)
    message_id, _colon, emoji = request.POST.get("reaction", "").partition(":")
    if not message_id.isdigit():
        return HttpResponseBadRequest("reaction must be <message id>:<emoji>")
    message = get_object_or_404(room.messages.select_related("room"), pk=message_id)
    refused, status = (None, 204) if action_allowed("reaction", request) else (TOO_MANY_REACTIONS, 429)
    if refused is None:
        try:
            reaction_toggle(message=message, user=request.user, emoji=emoji)
        except ValidationError as error:
            refused, status = " ".join(error.messages), 400
    if request.htmx:  # no notice to carry to a later page: the bar simply does not change
        return HttpResponse(status=status)
    if refused is not None:
        messages.error(request, refused)
    return redirect(f"{room.get_absolute_url()}#message-{message.pk}")
