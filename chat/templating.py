"""The Jinja2 environment of the log line's templates (`templates/jinja2/chat/messages/`: a
line, its day separator, the bubble, its attachments and reaction bar), of presence's ("Online
now" and its push, rendered at every connect and heartbeat) and of the sidebar's (rendered at
every connect, and an entry at every message in another of the reader's rooms), and their
rendering.

A bubble is rendered for every message posted and for every line of history a process has not
rendered yet; in Django's template language that was half of a message's server CPU (hundreds
of variable lookups, filters and includes a bubble), where Jinja2 compiles a template to Python
(docs/performance.md). The rest of the site stays in Django's templates; these are the same
HTML, with Django's own filters (dates and times localised in the active language and time
zone, as `{{ value|date }}` does), its gettext (strings marked `_("...")`, which makemessages
finds as it does in Django templates), and autoescaping on: user text is escaped unless a
template says `|safe`, which only the stored, sanitised body_html does.
"""

import datetime
import functools
import re

from django.contrib.humanize.templatetags.humanize import naturalday
from django.template import defaultfilters, engines
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import get_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext
from jinja2 import Environment

from accounts.profiles import display_name

ENGINE = "jinja2"  # settings.TEMPLATES' NAME for this environment


def _local(value):
    """An aware datetime in the active time zone, as Django's templates show one; else `value`."""
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        return timezone.localtime(value)
    return value


# Format characters that show less than a minute (Django's date format syntax): a value shown
# with a format that has none of them is shown as its minute is.
_SUB_MINUTE = frozenset("suvUcrBe")


@functools.lru_cache(maxsize=64)
def _minute_format(format_string: str) -> bool:
    return _SUB_MINUTE.isdisjoint(re.sub(r"\\.", "", format_string))  # a backslashed character is text


def minute_format(name: str) -> bool:
    """Whether the format `name` (a Django format name, e.g. "MESSAGE_TIME_FORMAT", or a format
    string), in the active language, shows nothing finer than a minute: then a time shows as its
    minute does."""
    return _minute_format(get_format(name))


_FORMATS = {"date": defaultfilters.date, "time": defaultfilters.time}


@functools.lru_cache(maxsize=4096)
def _formatted_minute(kind: str, minute: datetime.datetime, arg: str, language: str | None, zone: str) -> str:
    # `language` and `zone` are in the key only: the filter reads the active ones.
    return _FORMATS[kind](_local(minute), arg)


def _format_filter(kind: str):
    """Django's `kind` filter (date or time) on a value in the active time zone, as Django's
    templates show it, remembered per language, zone and minute (a bubble's time and its title:
    Django's date formatting was a third of a bubble's render). A format showing seconds or
    finer, or a value that is no datetime, is formatted each time."""

    def apply(value, arg=None):
        if not isinstance(value, datetime.datetime) or not arg or not minute_format(arg):
            return _FORMATS[kind](_local(value), arg)
        minute = value.replace(second=0, microsecond=0)
        return _formatted_minute(kind, minute, arg, translation.get_language(), timezone.get_current_timezone_name())

    return apply


_SEQ_SLOT = 999_999_999_999  # a seq no room reaches, marking where a message's seq goes


@functools.lru_cache(maxsize=4096)
def _around_seq(name: str, slug: str) -> tuple[str, str]:
    """The URL `name` (a pattern taking a room's slug and a message's seq) of room `slug`, as
    what comes before and after the seq: reversed once per room and process, not per bubble."""
    before, after = reverse(name, args=(slug, _SEQ_SLOT)).split(str(_SEQ_SLOT))
    return before, after


def message_url(name: str, message) -> str:
    """`message_url('chat:message_permalink', message)`: the URL `name` of `message` (a
    chat.models.Message with its room), as reverse(name, args=(its room's slug, its seq))
    gives it, for a reverse() (about 90 µs here) once per room rather than per bubble."""
    before, after = _around_seq(name, message.room.slug)
    return f"{before}{int(message.seq)}{after}"


@functools.lru_cache(maxsize=4096)
def url(name: str, *args) -> str:
    """`url('chat:mentions')`: reverse(name, args=args) (each a str or an int), kept per
    process (a reverse() is tens of µs; the sidebar's links are in every connect's render)."""
    return reverse(name, args=args)


def count_label(kind: str, count: int) -> str:
    """A sidebar badge's label in the active language: "3 mentions" (`kind` "mentions") or "3
    unread" ("unread"). A plural, so made here (a Jinja2 template's strings are `_()` only)."""
    if kind == "mentions":
        text = ngettext("%(counter)s mention", "%(counter)s mentions", count)
    else:
        text = ngettext("%(counter)s unread", "%(counter)s unread", count)
    return text % {"counter": count}


def edit_link_title() -> str:
    """The "Edit" link's title, in the active language: the author may edit or delete their
    message for CHAT_EDIT_SECONDS (in whole minutes) after sending it; the server enforces it."""
    from .edits import edit_seconds  # edits renders bubbles (its pushes): imported once both are

    minutes = edit_seconds() // 60
    return ngettext(
        "Edit or delete your message: possible for %(minutes)s minute after sending it",
        "Edit or delete your message: possible for %(minutes)s minutes after sending it",
        minutes,
    ) % {"minutes": minutes}


def environment(**options) -> Environment:
    """The Jinja2 environment (settings.TEMPLATES' OPTIONS["environment"]): autoescaping, i18n
    through Django's gettext, Django's date, time, naturalday, capfirst and filesizeformat
    filters, and the bubble's helpers as globals."""
    from . import reactions

    # Autoescaping whatever the settings say: render() marks the output safe on that ground.
    env = Environment(extensions=["jinja2.ext.i18n"], **{**options, "autoescape": True})
    env.install_gettext_callables(gettext, ngettext, newstyle=False)
    env.filters.update(
        date=_format_filter("date"),
        time=_format_filter("time"),
        naturalday=lambda value, arg=None: naturalday(_local(value), arg),  # "Today": not kept
        capfirst=defaultfilters.capfirst,
        filesizeformat=defaultfilters.filesizeformat,
        display_name=display_name,
    )
    env.globals.update(
        url=url,
        message_url=message_url,
        count_label=count_label,
        edit_link_title=edit_link_title,
        reaction_bar_html=reactions.bar_html,
        reaction_palette=reactions.palette_html,
    )
    return env


def render(template_name: str, context: dict) -> SafeString:
    """`template_name` (under templates/jinja2/) rendered with `context`, in the active language
    and time zone. Marked safe, as Django's render_to_string marks its output: it is the
    template's, every value in it autoescaped, so a Django template that puts it in (a tag's
    result) does not escape it again."""
    return mark_safe(engines[ENGINE].get_template(template_name).render(context))
