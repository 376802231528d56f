"""Attachments' pages: posting a file to a room, and serving it to those who may read the room.

A module of its own rather than more of chat/views.py, which is past the project's 250 lines.
Files are never served from a public URL (there is no MEDIA_URL route): every request passes
`rooms_visible_to`, so a private room's files are a 404 to anyone outside it.
"""

import pathlib

from asgiref.sync import async_to_sync
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from . import fragments
from .attachments import SERVED_TYPES, attachment_post
from .composer import NOT_SAVED, TOO_FAST
from .memberships import membership_join
from .models import Attachment, Message
from .ratelimits import message_rate_allowed, message_rate_count
from .selectors import rooms_visible_to


class AttachmentForm(forms.Form):
    """The attach form: a `file` and an optional `caption` (the message's text)."""

    file = forms.FileField(label=_("File"))
    caption = forms.CharField(label=_("Caption"), required=False, max_length=Message.BODY_MAX_LENGTH)


def _errors(form: AttachmentForm) -> list[str]:
    return [str(error) for errors in form.errors.values() for error in errors]


@login_required
@require_POST
def attachment_post_view(request, slug):
    """POST a file (and a caption) to room `slug` as the reader's message, CSRF-checked, under
    the same per-user posting limits as the composer; joins a public room. The message reaches
    every page, the sender's too, by the room's socket. Without htmx: a redirect to the room,
    a refusal shown there as a notice. With htmx (HX-Request): the attach form, reset or with
    its errors, swapped out of band into the page (`#attach`). 404 for a room the reader may
    not see."""
    room = get_object_or_404(rooms_visible_to(request.user), slug=slug)
    form = AttachmentForm(request.POST, request.FILES)
    errors = [] if form.is_valid() else _errors(form)
    if not errors and not async_to_sync(message_rate_allowed)(request.user.pk):
        errors = [str(TOO_FAST)]
    if not errors:
        membership_join(room=room, user=request.user)
        try:
            attachment_post(
                room=room, author=request.user, upload=form.cleaned_data["file"], caption=form.cleaned_data["caption"]
            )
        except ValidationError as error:
            errors = error.messages
        except DatabaseError:
            errors = [str(NOT_SAVED)]
        else:
            async_to_sync(message_rate_count)(request.user.pk)
    if request.htmx:
        caption = request.POST.get("caption", "") if errors else ""
        context = {"room": room, "attach_errors": errors, "attach_caption": caption, "oob": True}
        return render(request, fragments.ATTACH, context, status=200)
    for error in errors:
        messages.error(request, error)
    return redirect(room)


@login_required
def attachment_file(request, slug, attachment_id: int, thumbnail: bool = False):
    """Attachment `attachment_id` of a message in room `slug` (its `thumbnail` if asked), for a
    reader who may read the room, of a message not deleted; else 404, as for a missing file. Streamed with the type its
    bytes were found to be (chat.attachments.SERVED_TYPES only), `inline` for the re-encoded
    images and `attachment` (a download) for anything else, never sniffed
    (`X-Content-Type-Options: nosniff`) and sandboxed (`Content-Security-Policy: sandbox`), so
    that even a file that got past the checks runs nothing on this site's origin. One query."""
    attachment = get_object_or_404(
        Attachment.objects.select_related("message"),
        pk=attachment_id,
        message__room__slug=slug,
        message__room__in=rooms_visible_to(request.user),
    )
    if getattr(attachment.message, "deleted_at", None) is not None:
        raise Http404  # a deleted message's files go with it, whoever kept their address
    stored = attachment.thumbnail if thumbnail else attachment.file
    content_type = "image/webp" if thumbnail else attachment.content_type
    if not stored or content_type not in SERVED_TYPES:
        raise Http404
    try:
        handle = stored.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    inline = content_type.startswith("image/")
    response = FileResponse(
        handle, content_type=content_type, as_attachment=not inline, filename=pathlib.PurePath(stored.name).name
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Cache-Control"] = "private, max-age=3600"
    return response
