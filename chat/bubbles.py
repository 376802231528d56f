"""Log lines (a message's bubble, after its day separator when it starts a day) rendered once
per process for what they show, not once per page view.

A page of history renders 50 of them, and the same 50 for every reader who opens the room in
the same language and time zone: half of the page's time (docs/performance.md). `line_html`
keys each rendered line by everything `templates/jinja2/chat/messages/_line.html` shows — the
reader's language, time zone and today (for "Today" and "Yesterday"), the line's grouping, the
message's fields, its author's display name, its reactions and attachments — so an edit, a
reaction, a rename or a new day is a new key and never a stale line: nothing is invalidated.
The template stays the one file for the line, in the page and in every push.

A message just posted has no key worth keeping (no one has rendered it yet): its push takes its
line from a shell, the template rendered once a minute with sentinels for the message's values,
which are put in (`fresh_line_html`): 200 µs of a message's CPU become a few.
"""

import datetime
import re
from collections import OrderedDict

from django.contrib.auth import get_user_model
from django.utils import timezone, translation
from markupsafe import escape  # Jinja2's autoescape: the template's own bytes

from accounts.models import Profile
from accounts.profiles import display_name

from . import reactions, selectors, templating
from .models import Message, Room

LINE = "chat/messages/_line.html"  # Jinja2, as the templates it includes (chat.templating)
BUBBLE = "chat/messages/_message.html"
MEMO_SIZE = 2048  # lines kept per process (a few KiB each), the least recently used forgotten
_memo: "OrderedDict[tuple, str]" = OrderedDict()


def _shown(line, live: bool) -> tuple:
    """Everything the line's template shows, as a hashable key. Reads the message's reactions
    and attachments and its author's profile as the template would: no query when they were
    loaded (selectors.related_load, a push's data), else the template's own."""
    message = line.message
    bar = tuple((group.emoji, tuple(group.users)) for group in reactions.reaction_groups(message))
    attachments = tuple(
        (a.pk, a.original_name, a.size, a.is_image, str(a.thumbnail), str(a.file)) for a in message.attachments.all()
    )
    variant = (translation.get_language(), timezone.get_current_timezone_name(), timezone.localdate())
    fields = (message.pk, message.seq, message.room.slug, message.author_id, display_name(message.author))
    shown = (message.created_at, message.edited_at, message.deleted_at, message.body_html, message.body)
    return (*variant, live, line.new_day, line.continued, *fields, *shown, bar, attachments)


def line_html(line, *, live: bool = False, fresh: bool = False) -> str:
    """`line` (selectors.LogLine) rendered in the active language and time zone (`live`: pushed
    after the page opened), as `{% include "chat/messages/_line.html" %}` would: from this
    process's memo when it showed the same before (MEMO_SIZE lines), else rendered and kept;
    a line that comes rendered (`line.html`, chat.latest) is that, unless `live`. A `fresh`
    line (a message just posted: no memo has it) is rendered without its key."""
    if line.html is not None and not live:
        return line.html
    if fresh:
        return templating.render(LINE, {"line": line, "live": bool(live)})
    key = _shown(line, bool(live))
    html = _memo.get(key)
    if html is None:
        html = _memo[key] = templating.render(LINE, {"line": line, "live": bool(live)})
        if len(_memo) > MEMO_SIZE:
            _memo.popitem(last=False)
    else:
        _memo.move_to_end(key)
    return html


# A just-posted message's line (no day separator, edit, reaction or attachment) is the same HTML
# for every message of a minute but for the message's own values: fresh_line_html renders it once
# per language, zone, minute and grouping with a sentinel in each value's place, and puts the
# values in. Each value has a sentinel of its own, so that each is put in as the template shows it.
_PK, _SEQ, _AUTHOR = 999_999_999_901, 999_999_999_902, 999_999_999_903  # no row or room reaches them
_NAME, _USERNAME, _SLUG = "tertulia-slot-name", "tertulia-slot-username", "tertulia-slot-room"
_BODY, _BODY_HTML, _TIME = "tertulia-slot-body", "tertulia-slot-body-html", "tertulia-slot-time"
_SENTINELS = [str(sentinel) for sentinel in (_PK, _SEQ, _AUTHOR, _NAME, _USERNAME, _SLUG, _BODY, _BODY_HTML, _TIME)]
_SLOTS = re.compile("(" + "|".join(sorted(_SENTINELS, key=len, reverse=True)) + ")")  # the longest first
_MICROSECOND = 999_917  # the shell's time's, so that its isoformat is its own (then _TIME)
TIME_FORMATS = ("MESSAGE_TIME_FORMAT", "MESSAGE_DATETIME_FORMAT")  # what the bubble's times are shown in
SHELLS_SIZE = 256
_shells: "OrderedDict[tuple, list[str] | None]" = OrderedDict()


def _shell(minute: datetime.datetime, continued: bool) -> list[str] | None:
    """The live line of a made-up message posted in `minute` (aware, UTC) with a sentinel in
    each of its values' places, split there: literal and sentinel alternating. None when the
    active language's time formats show seconds (one shell a minute would show the wrong ones)."""
    if not all(templating.minute_format(name) for name in TIME_FORMATS):
        return None
    author = get_user_model()(pk=_AUTHOR, username=_USERNAME)
    author.profile = Profile(display_name=_NAME)
    at = minute.replace(second=0, microsecond=_MICROSECOND)
    message = Message(pk=_PK, seq=_SEQ, room=Room(slug=_SLUG), author=author, body=_BODY, body_html=_BODY_HTML)
    message.created_at = at
    selectors.related_restore(message, "attachments", [])
    selectors.related_restore(message, "reactions", [])
    line = selectors.LogLine(message, new_day=False, continued=continued)
    html = templating.render(LINE, {"line": line, "live": True})
    return _SLOTS.split(html.replace(at.isoformat(), _TIME))  # re.split keeps what its group matched


def fresh_line_html(line, *, name: str) -> str | None:
    """`line` (selectors.LogLine of a message just stored, as chat.messages makes it: no
    reactions, its attachments restored) rendered as line_html(line, live=True) renders it, its
    author shown as display name `name` (else their username), from the shell of its minute
    (_shell) with the message's values put in: text escaped as Jinja2's autoescape does, the
    sanitised body_html as the template's |safe puts it. None when the line shows more than a
    shell has (a day separator, an edit or deletion, an attachment, a body without body_html,
    formats with seconds): the caller renders it."""
    message = line.message
    if line.new_day or message.edited_at or message.deleted_at or not message.body_html or message.attachments.all():
        return None
    minute = message.created_at.astimezone(datetime.UTC).replace(second=0, microsecond=0)
    key = (translation.get_language(), timezone.get_current_timezone_name(), line.continued, minute)
    if key in _shells:
        _shells.move_to_end(key)
        parts = _shells[key]
    else:
        parts = _shells[key] = _shell(minute, line.continued)
        if len(_shells) > SHELLS_SIZE:
            _shells.popitem(last=False)
    if parts is None:
        return None
    username = message.author.get_username()
    values = {
        str(_PK): str(int(message.pk)),
        str(_SEQ): str(int(message.seq)),
        str(_AUTHOR): str(int(message.author_id)),
        _NAME: escape(name or username),
        _USERNAME: escape(username),
        _SLUG: escape(message.room.slug),
        _BODY: escape(message.body),
        _BODY_HTML: message.body_html,
        _TIME: escape(message.created_at.isoformat()),
    }
    return "".join(values[part] if index % 2 else part for index, part in enumerate(parts))


def lines_forget() -> None:
    """Forget every rendered line and shell (for tests: settings and templates change between them)."""
    _memo.clear()
    _shells.clear()
