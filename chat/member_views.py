"""The views of a room's people: invitations, removing and leaving, and starting a direct
conversation. Each answers a plain POST (CSRF-checked) with a redirect and a notice."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from .forms import DirectForm, InviteForm
from .memberships import membership_invite, membership_remove
from .models import Membership
from .ratelimits import action_allowed
from .rooms import room_get_or_create_direct
from .selectors import rooms_visible_to

TOO_MANY_INVITATIONS = gettext_lazy("You have sent many invitations lately: wait a while before sending more.")


@login_required
@require_POST
def room_invite(request, slug):
    """Add a user, by username, to a private room the reader is a member of."""
    room = get_object_or_404(rooms_visible_to(request.user), slug=slug, is_private=True)
    form = InviteForm(request.POST)
    if form.is_valid() and not action_allowed("invite", request):
        messages.error(request, TOO_MANY_INVITATIONS)
    elif form.is_valid():
        try:
            membership_invite(room=room, inviter=request.user, username=form.cleaned_data["username"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("%(username)s can now see %(room)s.")
                % {"username": form.cleaned_data["username"], "room": room.name},
            )
    return redirect(room)


@login_required
@require_POST
def room_member_remove(request, slug, user_id=None):
    """Remove a member (the room's creator or staff), or leave (the member themselves): the
    member's id in the URL, or posted as `user_id` (the members panel's buttons)."""
    room = get_object_or_404(rooms_visible_to(request.user), slug=slug)
    user_id = user_id or request.POST.get("user_id", "")
    if not str(user_id).isdigit():
        return HttpResponseBadRequest("user_id must be a user's id")
    # Only a member can be removed: anyone else is a 404, whoever they are.
    member = get_object_or_404(Membership.objects.select_related("user"), room=room, user_id=user_id).user
    membership_remove(room=room, remover=request.user, user=member)
    if member.pk == request.user.pk:
        messages.success(request, _("You left %(room)s.") % {"room": room.name})
        return redirect("chat:room_list")
    messages.success(
        request, _("%(username)s was removed from %(room)s.") % {"username": member.get_username(), "room": room.name}
    )
    return redirect(room)


@login_required
@require_POST
def direct_start(request):
    """Go to the direct conversation with the people named in `usernames` (spaces or commas
    between them), starting it if it is new; back where the reader was, with the error, if a
    name is wrong."""
    form = DirectForm(request.POST)
    if form.is_valid():
        try:
            room, _created = room_get_or_create_direct(starter=request.user, usernames=form.cleaned_data["usernames"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            return redirect(room)
    else:
        messages.error(request, _("Name someone to talk to."))
    back = request.headers.get("referer")
    return redirect(
        back if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}) else "chat:room_list"
    )
