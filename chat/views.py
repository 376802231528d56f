import math

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from . import fragments
from .composer import composer_submit
from .forms import MessageForm, RoomForm, RoomSettingsForm
from .frames import Post
from .latest import latest_history, latest_members
from .memberships import membership_join, membership_mark_read
from .models import Room
from .ratelimits import action_allowed
from .rooms import room_create_private, room_get_or_create, room_update
from .selectors import (
    message_day,
    messages_after,
    messages_before,
    room_exists,
    room_index,
    room_title,
    rooms_visible_to,
)
from .sidebar import Sidebar, sidebar_entries

ROOMS_PER_PAGE = 50
UNREAD_CONTEXT = 5  # read messages shown above the first unread when the page opens there (≤ ¼ page)
TOO_MANY_ROOMS = gettext_lazy("You have created many rooms lately: wait a while before creating another.")


def _sidebar(user, room=None, sidebar: Sidebar | None = None) -> dict:
    """The context of the chat layout's sidebar: `user`'s rooms (`sidebar`, or read now), with
    `room` as the current one, and how many messages are unread in the others (the tab title's
    count)."""
    if sidebar is None:
        sidebar = Sidebar(sidebar_entries(user), current_room_id=room and room.pk)
    return {
        "sidebar_entries": sidebar.ordered(),
        "current_room_id": sidebar.current_room_id,
        "unread_elsewhere": sidebar.unread_elsewhere(),
    }


@login_required
@require_http_methods(["GET", "POST"])
def room_list(request):
    """The rooms the reader may see, most recently active first. POST a name to go to (or
    create) that public room, or with `is_private` to create a new private room."""
    form = RoomForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        name, private = form.cleaned_data["name"], form.cleaned_data["is_private"]
        if (private or not room_exists(name=name)) and not action_allowed("room-create", request):
            form.add_error(None, TOO_MANY_ROOMS)
        elif private:
            return redirect(room_create_private(name=name, creator=request.user))
        else:
            room, _created = room_get_or_create(name=name, creator=request.user)
            membership_join(room=room, user=request.user)
            return redirect(room)
    query = request.GET.get("q", "").strip()
    rooms = Paginator(room_index(request.user, search=query), ROOMS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"form": form, "rooms": rooms, "query": query, **_sidebar(request.user)}
    return render(request, fragments.ROOM_LIST_PAGE, context)


@login_required
def room_detail(request, slug):
    """A room's page: the latest messages grouped by day, the live composer, its members and
    who is online, and the sidebar. A private room (a direct conversation too) is a 404 to
    non-members (it is invisible). Opening a public room's page does not join it (a GET from
    another site must not add rooms to a sidebar): its socket, posting, or "Go to room" does.
    A member's room comes with their sidebar's read (no query of its own); another's is read
    only if it is public."""
    sidebar = Sidebar(sidebar_entries(request.user))
    room = sidebar.room_at(slug) or get_object_or_404(Room, slug=slug, is_private=False)
    return _room_page(request, room, sidebar=sidebar)


def _room_page(request, room, *, lines=None, form=None, highlight: int | None = None, status: int = 200, sidebar=None):
    """`room`'s page for `request.user`, showing `lines` (default: the latest history, or with
    more unread than a page, the page that opens at the first unread) and the composer `form`
    (default: empty); a "Show newer messages" link where the lines stop short of the newest;
    message `highlight` (a seq) marked and scrolled to; `sidebar` the reader's (None: read here).
    Marks the room read."""
    # The reader's marker comes with their sidebar (no query of its own): a room they are not
    # in has no entry, and nothing read.
    sidebar = Sidebar(sidebar_entries(request.user)) if sidebar is None else sidebar
    sidebar.current_room_id = room.pk
    entry = sidebar.entries.get(room.pk)
    last_read_seq = entry.last_read_seq if entry else 0
    cursor = room.last_seq  # as read with the room for this request
    if lines is None and last_read_seq and cursor - last_read_seq > settings.CHAT_HISTORY_LIMIT:
        context = min(UNREAD_CONTEXT, settings.CHAT_HISTORY_LIMIT // 4)
        lines = messages_after(room=room, after=max(last_read_seq - context, 0))
    lines = latest_history(room) if lines is None else lines
    shown = lines[-1].message.seq if lines else 0
    # The page's socket sends only what is newer than `cursor`: not a message posted since the
    # room was read that the history already shows.
    cursor = max(cursor, shown)
    # Where the reader left off: the "new messages" divider goes before the first one after it.
    first_unread = last_read_seq + 1 if 0 < last_read_seq < cursor else None
    if entry is not None and last_read_seq < cursor:  # a marker only moves forward: else no UPDATE
        membership_mark_read(room=room, user=request.user, seq=cursor)
    sidebar.move(room.pk, last_seq=cursor, last_read_seq=cursor)
    members, members_count = latest_members(room)
    context = {
        "room": room,
        "title": room_title(room, request.user),
        "lines": lines,
        "cursor": cursor,
        "newer_after": shown if shown < cursor else None,
        "highlight": highlight,
        "first_unread": first_unread,
        "form": form or MessageForm(),
        "sync_seconds": settings.CHAT_SYNC_SECONDS,
        "stale_seconds": math.ceil(2 * settings.CHAT_HEARTBEAT_SECONDS + 5),
        "members": members,
        "members_count": members_count,
        "members_more": members_count - len(members),
        "may_manage": room.can_manage(request.user),
        "may_remove": room.can_remove_members(request.user),
        **_sidebar(request.user, room, sidebar),
    }
    return render(request, fragments.ROOM_PAGE, context, status=status)


@login_required
@require_POST
async def message_post(request, slug):
    """The composer without JavaScript: a POST (CSRF-checked) of `message` and `key`, through the
    same validation, limits and service as the socket (composer.composer_submit), joining a
    public room. Redirects back to the room; a refused message re-renders the page (400) with
    its error and text kept. The text is never put in a URL."""
    user = await request.auser()
    room = await rooms_visible_to(user).filter(slug=slug).afirst()
    if room is None:
        raise Http404
    await sync_to_async(membership_join)(room=room, user=user)
    post = Post(request.POST.get("message", ""), request.POST.get("key"))
    form = await composer_submit(room=room, user=user, post=post)
    if form is not None:
        return await sync_to_async(_room_page)(request, room, form=form, status=400)
    return redirect(room)


@login_required
def room_older(request, slug):
    """The page of messages before seq `?before=` in a room, to put above what the reader has
    (htmx), or without JavaScript a whole room page showing them."""
    room = get_object_or_404(rooms_visible_to(request.user), slug=slug)
    try:
        before = int(request.GET.get("before", ""))
    except ValueError:
        return HttpResponseBadRequest("before must be a message seq")
    older = messages_before(room=room, before=before)
    if not request.htmx:  # a link followed without JavaScript: a whole page of older history
        return _room_page(request, room, lines=older)
    # If the page's current first message is on the same day as our last, its separator moves up.
    joined_day = older[-1].day if older and message_day(room=room, seq=before) == older[-1].day else None
    return render(request, fragments.OLDER_PAGE, {"room": room, "lines": older, "joined_day": joined_day})


@login_required
def message_permalink(request, slug, seq: int):
    """Message `seq` of a room in context: the room's page around it (older and newer on
    demand), the message highlighted and scrolled to. A 404 if there is no such message (or
    the room is not the reader's to see)."""
    room = get_object_or_404(rooms_visible_to(request.user), slug=slug)
    if not room.messages.filter(seq=seq).exists():
        raise Http404
    lines = messages_after(room=room, after=max(seq - settings.CHAT_HISTORY_LIMIT // 2, 0))
    return _room_page(request, room, lines=lines, highlight=seq)


@login_required
def room_newer(request, slug):
    """The page of messages after seq `?after=` in a room, to put in place of the "Show newer
    messages" link between a page opened at the first unread and the live messages (htmx), or
    without JavaScript a whole room page showing them."""
    room = get_object_or_404(rooms_visible_to(request.user), slug=slug)
    try:
        after = int(request.GET.get("after", ""))
    except ValueError:
        return HttpResponseBadRequest("after must be a message seq")
    newer = messages_after(room=room, after=after)
    if not request.htmx:
        return _room_page(request, room, lines=newer)
    shown = newer[-1].message.seq if newer else after
    newer_after = shown if shown < int(request.GET.get("upto") or 0) else None
    context = {"room": room, "lines": newer, "newer_after": newer_after, "cursor": request.GET.get("upto")}
    return render(request, fragments.NEWER_PAGE, context)


@login_required
@require_http_methods(["GET", "POST"])
def room_settings(request, slug):
    """A room's settings: its name and description, for its creator and staff (403 for other
    members, and for direct conversations and archived rooms); leaving is on the room's page."""
    room = get_object_or_404(rooms_visible_to(request.user), slug=slug)
    if room.is_archived or not room.can_manage(request.user):
        raise PermissionDenied("Only the room's creator or staff can change its settings.")
    form = RoomSettingsForm(request.POST or None, initial={"name": room.name, "description": room.description})
    if request.method == "POST" and form.is_valid():
        try:
            room_update(room=room, editor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error("name", error.message_dict.get("name", error.messages))
        else:
            messages.success(request, _("Room settings saved."))
            return redirect(room)
    room.refresh_from_db(fields=["name", "description"])
    context = {"room": room, "title": room.name, "form": form, **_sidebar(request.user, room)}
    return render(request, fragments.ROOM_SETTINGS_PAGE, context)
