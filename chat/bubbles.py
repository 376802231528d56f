"""Log lines (a message's bubble, after its day separator when it starts a day) rendered once
per process for what they show, not once per page view.

A page of history renders 50 of them, and the same 50 for every reader who opens the room in
the same language and time zone: half of the page's time (docs/performance.md). `line_html`
keys each rendered line by everything `templates/jinja2/chat/messages/_line.html` shows — the
reader's language, time zone and today (for "Today" and "Yesterday"), the line's grouping, the
message's fields, its author's display name, its reactions and attachments — so an edit, a
reaction, a rename or a new day is a new key and never a stale line: nothing is invalidated.
The template stays the one file for the line, in the page and in every push.
"""

from collections import OrderedDict

from django.utils import timezone, translation

from accounts.profiles import display_name

from . import reactions, templating

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


def lines_forget() -> None:
    """Forget every rendered line (for tests: settings and templates change between them)."""
    _memo.clear()
