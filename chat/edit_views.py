"""The message edit page: change a message's text, or delete it (chat.edits), without JavaScript.

Its own module: chat/views.py is past its size limit.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from .edits import MessageEditForm, message_delete, message_edit
from .models import Message
from .selectors import rooms_visible_to

MESSAGE_EDIT_PAGE = "chat/message_edit.html"


def _message(request, slug: str, seq: int) -> Message:
    """Message `seq` of the room at `slug`, if the reader may see that room; else a 404."""
    room = get_object_or_404(rooms_visible_to(request.user), slug=slug)
    return get_object_or_404(room.messages.select_related("room", "author"), seq=seq)


def _back_to(message: Message):
    return redirect(f"{message.room.get_absolute_url()}#message-{message.pk}")


@login_required
@require_http_methods(["GET", "POST"])
def message_edit_view(request, slug, seq: int):
    """GET: the edit page of message `seq` (its text in a form, and "Delete"). POST `message`
    (CSRF-checked): message_edit, then back to the room at the message; a refused edit shows the
    page again (400) with its error and the text kept. Who may edit, and until when, is the
    service's to say (its refusal shown, 403). A room the reader may not see, or no such
    message: 404."""
    message = _message(request, slug, seq)
    form = MessageEditForm(request.POST or None, initial={"message": message.body})
    status = 200
    if request.method == "POST":
        try:
            message_edit(message=message, editor=request.user, body=request.POST.get("message", ""))
        except (ValidationError, PermissionDenied) as error:
            form.errors.clear()
            form.add_error(None, " ".join(str(part) for part in getattr(error, "messages", None) or error.args))
            status = 403 if isinstance(error, PermissionDenied) else 400
        else:
            messages.success(request, _("Message edited."))
            return _back_to(message)
    may_delete = message.author_id == request.user.pk or request.user.is_staff or message.room.can_manage(request.user)
    context = {"room": message.room, "message": message, "form": form, "may_delete": may_delete}
    return render(request, MESSAGE_EDIT_PAGE, context, status=status)


@login_required
@require_POST
def message_delete_view(request, slug, seq: int):
    """POST (CSRF-checked) with `confirm`: message_delete, then back to the room at the message's
    placeholder. Without `confirm`, back to the edit page with a note. Who may delete is the
    service's to say (PermissionDenied: 403)."""
    message = _message(request, slug, seq)
    if not request.POST.get("confirm"):
        messages.error(request, _("Tick the box to confirm that the message should be deleted."))
        return redirect("chat:message_edit", slug=slug, seq=seq)
    try:
        message_delete(message=message, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("chat:message_edit", slug=slug, seq=seq)
    messages.success(request, _("Message deleted."))
    return _back_to(message)
