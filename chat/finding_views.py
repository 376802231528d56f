"""The pages that find messages across rooms: search, and the messages that mention the reader."""

import re

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from .mentions import mentions_of
from .search import message_search
from .selectors import room_titles, rooms_visible_to
from .views import _sidebar

MENTIONS_PER_PAGE = 25
SUGGESTIONS = 8
TRAILING_MENTION = re.compile(r"(?:^|\s)@([\w.@+-]{0,150})$")  # an @name being typed at the text's end


@login_required
def search(request):
    """Messages the reader may read that match `?q=` (chat.search: words, "a phrase",
    from:username, in:room), newest first, `?page=` of them (from 1; not a number: 1). The
    query is in the URL: search terms, not messages."""
    query = request.GET.get("q", "").strip()
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        page = 1
    results = message_search(user=request.user, query=query, page=page)
    context = {"search_query": query, "results": results, **_sidebar(request.user)}
    return render(request, "chat/search.html", context)


@login_required
def mentions(request):
    """The messages that mention the reader, newest first, in rooms they may still read,
    MENTIONS_PER_PAGE a page (`?page=`, from 1), each linking to its place in its room."""
    page = Paginator(mentions_of(request.user), MENTIONS_PER_PAGE).get_page(request.GET.get("page"))
    titles = room_titles([mention.message.room for mention in page], request.user)
    items = [{"message": mention.message, "title": titles[mention.room_id]} for mention in page]
    context = {"mentions": page, "items": items, **_sidebar(request.user)}
    return render(request, "chat/mentions.html", context)


@login_required
@require_POST
def mention_suggestions(request, slug):
    """The room's members (at most SUGGESTIONS, by username) whose username starts with the
    @name the composer's `message` ends in, as the suggestions under the composer; an empty
    element when it ends in none. POSTed (CSRF-checked) by the text area as it changes, so the
    text is never in a URL; a 404 for a room the reader may not see."""
    room = get_object_or_404(rooms_visible_to(request.user), slug=slug)
    typed = TRAILING_MENTION.search(request.POST.get("message", "")[-200:])
    suggestions = []
    if typed:
        members = get_user_model().objects.filter(memberships__room=room, is_active=True)
        members = members.filter(username__istartswith=typed.group(1)).select_related("profile")
        suggestions = list(members.order_by("username")[:SUGGESTIONS])
    return render(request, "chat/room/_mention_suggestions.html", {"suggestions": suggestions})
