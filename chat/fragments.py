"""Every HTML fragment a socket pushes, and the only home of the chat's template names.

A fragment is swapped into the page *out of band, by id* by htmx's ws extension: each of its
top-level elements replaces its twin (or, with `hx-swap-oob="beforeend"`, appends to it). The
page includes the same template files, so a designer edits an element once (a message bubble:
`templates/jinja2/chat/messages/_message.html`) and the page and every push follow. Each function
takes plain values and returns the rendered HTML (`str`), auto-escaped; user text is never
marked safe. Times render in the active time zone (the site's, `settings.TIME_ZONE`).
"""

import functools
import uuid

from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import ngettext

from . import templating
from .forms import MessageForm
from .presence import Present

# Pages (rendered by chat/views.py).
ROOM_LIST_PAGE = "chat/room_list.html"
ROOM_PAGE = "chat/room_detail.html"
ROOM_SETTINGS_PAGE = "chat/room_settings.html"
# Pushed fragments, each its own file under templates/chat/pushes/.
MESSAGES_APPEND = "chat/pushes/messages_append.html"
LOG_REPLACE = "chat/pushes/log_replace.html"
OLDER_PAGE = "chat/pushes/older_page.html"
NEWER_PAGE = "chat/pushes/newer_page.html"
ROOM_CHANGED = "chat/pushes/room_changed.html"
COMPOSER_ANSWER = "chat/pushes/composer_answer.html"
PAGE_TITLE = "chat/pushes/page_title.html"
MEMBERS_CHANGED = "chat/pushes/members_changed.html"
PRESENCE_CHANGED = "chat/pushes/presence_changed.html"  # Jinja2 (chat.templating), as its _presence.html
# Elements of the page that are also pushed alone.
COMPOSER = "chat/room/_composer.html"
COMPOSER_PENDING = "chat/room/_composer_pending.html"
STATUS = "chat/room/_status.html"
TYPING = "chat/room/_typing.html"
MEMBER_ONLINE = "chat/room/_member_online.html"
JUMP_LABEL = "chat/room/_jump_label.html"
SIDEBAR = "chat/sidebar/_sidebar.html"  # Jinja2 (chat.templating), as its _entry.html: every connect renders it
SIDEBAR_ENTRY = "chat/sidebar/_entry.html"
# The attach form, also the answer to its htmx POST (chat/attachment_views.py).
ATTACH = "chat/room/_attach.html"


def _render(template_name: str, context: dict) -> str:
    # Without the white space around the top-level elements, which htmx would ignore anyway.
    return render_to_string(template_name, context).strip()


# Every push of new messages is the same bytes but for its lines and cursor: rendered once per
# language with these in their places, the lines and cursor put in after (messages_append).
_LINES_SLOT = "<!-- tertulia lines -->"
_CURSOR_SLOT = 999_999_999_999  # a seq no room reaches
_appends: dict[str, str] = {}


def messages_append(*, lines: list = (), cursor: int, fresh: bool = False, lines_html: str | None = None) -> str:
    """`lines` (selectors.LogLine, in seq order) appended to the log, each as
    bubbles.line_html(line, live=True, fresh=fresh) renders it (`fresh`: just posted), or
    `lines_html`, lines already rendered so; the page's cursor moved to `cursor` (the newest
    seq it now has), and the typing line emptied."""
    from . import bubbles  # which renders reaction bars, whose pushes are variants': imported by then

    language = translation.get_language()
    shell = _appends.get(language)
    if shell is None:
        context = {"lines_html": mark_safe(_LINES_SLOT), "cursor": _CURSOR_SLOT}
        shell = _appends[language] = _render(MESSAGES_APPEND, context)
    if lines_html is None:
        lines_html = "".join(bubbles.line_html(line, live=True, fresh=fresh) for line in lines)
    return shell.replace(str(_CURSOR_SLOT), str(int(cursor))).replace(_LINES_SLOT, lines_html)


def log_replace(*, room, title: str, lines: list, cursor: int) -> str:
    """The whole log replaced by `lines` (a catch-up too long to append), and the cursor moved."""
    return _render(LOG_REPLACE, {"room": room, "title": title, "lines": lines, "cursor": cursor})


# The answer to each stored message is the same bytes but for the composer's fresh key: rendered
# once per language with this key in its place, the fresh key put in after (composer_answer).
_KEY_SLOT = "00000000-0000-4000-8000-0000000000ee"
_fresh_key_answers: dict[str, str] = {}


def composer_answer(
    *,
    card: str | None = None,
    error: str | None = None,
    text: str = "",
    retry: bool = False,
    form: MessageForm | None = None,
    key: uuid.UUID | None = None,
) -> str:
    """The composer's answer to its sender. With `error`, the refused message's card under the
    composer, keyed `card` (a UUID string), keeping `text`: appended, or replacing its own card
    when the refused send was its `retry`. Without, the card `card` (if any) deleted: its text
    was stored, or discarded. With `form` (unbound), the composer's fresh key; with `key` alone
    (no card, no error: the answer to a stored message, the most frequent), that fresh key, the
    answer rendered once per language and process."""
    if key is not None and card is None and error is None:
        language = translation.get_language()
        html = _fresh_key_answers.get(language)
        if html is None:
            slot = MessageForm(initial={"key": _KEY_SLOT})
            html = _fresh_key_answers[language] = _render(COMPOSER_ANSWER, {"form": slot})
        return html.replace(_KEY_SLOT, str(key))
    context = {"card": card, "error": error, "text": text, "retry": retry, "form": form}
    return _render(COMPOSER_ANSWER, context)


def members_changed(*, room, members: list, members_count: int, online_ids: list[int]) -> str:
    """The room's member list (`members`, the first selectors.MEMBERS_SHOWN) and count, alike
    for every reader, those in `online_ids` (user ids) marked online: what differs per reader
    (their own "Leave", "Remove" for managers) is styled by their page
    (chat/room/_reader_style.html)."""
    context = {"room": room, "members": members, "members_count": members_count, "online_ids": online_ids}
    return _render(MEMBERS_CHANGED, {**context, "members_more": members_count - len(members)})


def page_title(*, title: str, unread: int) -> str:
    """The page's tab title, "(3) Café · Tertulia": `title`, after `unread` (the reader's
    messages unread in rooms not in view) when there are any. For one reader's socket; every
    connect sends it, and its readers share a few: kept per language, title and count."""
    return _page_title_html(translation.get_language(), title, unread)


@functools.lru_cache(maxsize=1024)
def _page_title_html(language: str | None, title: str, unread: int) -> str:
    return _render(PAGE_TITLE, {"title": title, "unread": unread})  # `language` in the key only: the active one


_statuses: dict[tuple[str, bool, str], str] = {}


def status(state: str, *, composer: bool = False) -> str:
    """The connection badge: `state` is "connected", "ended" (session over) or "removed"; with
    `composer` (a room page), the composer's "not connected" notice too, on the same clock.
    The same bytes for every socket of a language: rendered once per state and language (each
    connect sends it)."""
    key = (state, composer, translation.get_language())
    html = _statuses.get(key)
    if html is None:
        html = _render(STATUS, {"state": state})
        if composer:
            html += _render(COMPOSER_PENDING, {"live": state == "connected"})
        _statuses[key] = html
    return html


def socket_ended(state: str, *, composer: bool) -> str:
    """What a page is told when its socket ends for good: the badge says why ("ended": session
    over, "removed": no longer a member) and, if the page has one (`composer`), the composer
    gives way to a notice, so that nothing on the page looks live."""
    return status(state) + (_render(COMPOSER, {"closed": state}) if composer else "")


def typing(*, typist: str) -> str:
    """ "<typist> is typing…", which the page hides by itself 4 s later (CSS)."""
    return _render(TYPING, {"typist": typist})


def jump_label(*, unseen: int | None) -> str:
    """The label of "Jump to latest": how many messages came while the reader was scrolled up
    (`unseen`), or with none its plain text; None: its plain text, not counting (the reader is
    at the newest message: chat.unseen)."""
    return _render(JUMP_LABEL, {"unseen": unseen})


PRESENCE_NAMED = 12  # the online users "Online now" names; "and N more" for the rest
_member_marks: dict[str, SafeString] = {}


def presence(*, shown: list | None, total: int) -> str:
    """Who has the room open: the first PRESENCE_NAMED of `shown` (presence.Present) by name,
    how many more of `total`, and an online mark beside each of `shown` in the members panel
    (the others' marks cleared); `shown` None when that cannot be known (presence's store is
    away): no names, no marks. Asked at every connect, heartbeat and presence push: kept per
    language and list shown (`_presence_html`); its templates are Jinja2 (chat.templating), the
    mark (a Django template, also the members list's) rendered once per language."""
    if shown is None:
        return templating.render(PRESENCE_CHANGED, {"unknown": True}).strip()
    # The same list is every connect's and heartbeat's in the room until someone comes or goes.
    people = tuple((present.username, present.user_id, present.name) for present in shown)
    return _presence_html(translation.get_language(), people, total)


@functools.lru_cache(maxsize=256)
def _presence_html(language: str | None, people: tuple, total: int) -> str:
    # `language` is in the key only (the render reads the active one); `people` holds each
    # Present's fields, the name too (a Present's equality leaves it out).
    named = [Present(*fields) for fields in people[:PRESENCE_NAMED]]
    more = total - len(named)
    more_text = (
        ngettext("and %(number)s more", "and %(number)s more", more) % {"number": intcomma(more)} if more else ""
    )
    # The online members' marks, as one selector list built here: a {% for %} over up to
    # presence.ONLINE_LISTED ids localised each id (a third of a socket's connect in a busy room).
    marks = ", ".join(f".member[data-user='{int(user_id)}'] .member-online" for _username, user_id, _name in people)
    mark = _member_marks.get(language)
    if mark is None:  # Django's render, safe as it returns it (a constant template: no user text)
        mark = _member_marks[language] = render_to_string(MEMBER_ONLINE)
    context = {"online": named, "more_text": more_text, "member_marks": marks, "mark_html": mark}
    return templating.render(PRESENCE_CHANGED, context).strip()


def sidebar(*, entries: list, current_room_id: int | None) -> str:
    """A reader's whole sidebar: `entries` (sidebar.SidebarEntry), the current room marked. Every
    connect sends it, and readers of one team share a few (a reconnect its own): kept per
    language, current room and what the entries show (sidebar.ShownEntry)."""
    shown = tuple(entry.shown() for entry in entries)
    return _sidebar_html(translation.get_language(), shown, current_room_id)


@functools.lru_cache(maxsize=256)
def _sidebar_html(language: str | None, shown: tuple, current_room_id: int | None) -> str:
    context = {"sidebar_entries": shown, "current_room_id": current_room_id}  # `language`: the active one
    return templating.render(SIDEBAR, context).strip()


def sidebar_entry(*, entry, current_room_id: int | None) -> str:
    """One room's sidebar entry (its title and unread count), replacing its twin by id; a
    message's readers share a few: kept as the whole sidebar is."""
    return _sidebar_entry_html(translation.get_language(), entry.shown(), current_room_id)


@functools.lru_cache(maxsize=1024)
def _sidebar_entry_html(language: str | None, shown: tuple, current_room_id: int | None) -> str:
    return templating.render(SIDEBAR_ENTRY, {"entry": shown, "current_room_id": current_room_id}).strip()


def room_changed(*, room, composer: bool) -> str:
    """`room`'s header after a rename or (un)archiving, the same for every member (a direct
    conversation's title is each reader's own and never changes, so it is left out), and with
    `composer` its composer, which an archived room replaces by a notice."""
    return _render(ROOM_CHANGED, {"room": room, "composer": composer, "form": MessageForm()})
