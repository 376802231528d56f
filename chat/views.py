from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from .forms import MessageForm, RoomForm
from .models import Room
from .services import message_history, messages_before, room_get_or_create


@login_required
@require_http_methods(["GET", "POST"])
def room_list(request):
    """The room index, most recently active first; POST a name to go to (or create) that room."""
    form = RoomForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        room, _created = room_get_or_create(name=form.cleaned_data["name"])
        return redirect(room)
    return render(request, "chat/room_list.html", {"form": form, "rooms": Room.objects.all()})


@login_required
def room_detail(request, slug):
    """A room's page: the latest messages grouped by day, and the live composer."""
    room = get_object_or_404(Room, slug=slug)
    history = message_history(room=room)
    cursor = history[-1].seq if history else 0
    context = {
        "room": room,
        "history": history,
        "cursor": cursor,
        "form": MessageForm(),
        "sync_seconds": settings.CHAT_SYNC_SECONDS,
    }
    return render(request, "chat/room_detail.html", context)


@login_required
def room_older(request, slug):
    """The page of messages before seq `?before=` in a room, to put above what the reader has."""
    room = get_object_or_404(Room, slug=slug)
    try:
        before = int(request.GET.get("before", ""))
    except ValueError:
        return HttpResponseBadRequest("before must be a message seq")
    older = messages_before(room=room, before=before)
    # If the page's current first message is on the same day as our last, its separator moves up.
    first_kept = room.messages.filter(seq=before).only("created_at").first()
    joined_day = older[-1].day if older and first_kept and first_kept.day == older[-1].day else None
    context = {"room": room, "history": older, "joined_day": joined_day}
    return render(request, "chat/room_detail.html#older-page", context)
