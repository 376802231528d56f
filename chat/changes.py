"""Edits and deletions on their way to the pages: the pushed bubbles and what a page missed.

A room numbers its changes (MessageRevision.change_seq: 1, 2, 3... under the room's lock). A
page holds the number of the last change it has (`<input id="changes">` in its sync form); its
socket keeps the same number in a second chat.cursor.Cursor, so a change is applied once, in
order, and a gap (a lost event, a reconnect) is repaired from the database here. A change is
shown by sending the message's current bubble (templates/chat/messages/_message.html), which
replaces the page's `#message-<pk>` by id: sending it twice, or after a later change already
showed, does no harm beyond the order the Cursor keeps.
"""

from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string

from accounts.profiles import display_name_recent

from . import variants
from .models import Message, MessageRevision, Reaction, Room
from .selectors import LogLine, message_history, related_load

MESSAGES_CHANGED = "chat/pushes/messages_changed.html"


def changes_html(*, lines: list[LogLine], change_seq: int) -> str:
    """The bubbles of `lines` (each replacing its twin by id) and the page's change cursor moved
    to `change_seq`, in the active language and time zone."""
    return render_to_string(MESSAGES_CHANGED, {"lines": lines, "change_seq": change_seq}).strip()


def _line_data(line: LogLine) -> dict:
    """What a socket needs to render `line`'s bubble again in another variant, with no query: the
    data of a new message's push (variants.message_data: the message, its room, author and
    attachments), and its reactions. Two or three queries."""
    data = variants.message_data(line, display_name_recent(line.message.author))
    reactions = line.message.reactions.select_related("user__profile").order_by("pk")
    data["reactions"] = [[reaction.emoji, variants._user_data(reaction.user)] for reaction in reactions]
    return data


def _prefetched(model, rows: list):
    """A queryset of `model` already holding `rows`, as prefetch_related leaves one."""
    queryset = model.objects.all()
    queryset._result_cache, queryset._prefetch_done = rows, True
    return queryset


def _line_from(data: dict) -> LogLine:
    """The changed message as a log line told in the active time zone (its group against the
    message before it), from _line_data's data, without a query (variants._line_from, with the
    message's reactions)."""
    line = variants._line_from(data)
    reactions = []
    for emoji, user in data["reactions"]:
        reactions.append(Reaction(message_id=line.message.pk, user_id=user[0], emoji=emoji))
        reactions[-1].user = variants._user_from(user)
    cache = line.message.__dict__.setdefault("_prefetched_objects_cache", {})
    cache["reactions"] = _prefetched(Reaction, reactions)
    return line


def _pushed(data: dict) -> str:
    return changes_html(lines=[_line_from(data)], change_seq=data["change_seq"])


# Rendered again from its data for sockets of another language or time zone (variants.push_html).
variants.RENDERERS["message_changed"] = _pushed


def changed_line(message: Message) -> LogLine:
    """`message` as its log line shows it (grouped with the message before it or not). One query
    (the message before), two if its author's profile is not loaded."""
    previous = Message.objects.filter(room_id=message.room_id, seq=message.seq - 1).only("author", "created_at")
    previous = previous.first()
    at = previous and previous.created_at
    return LogLine.after(message, author_id=previous and previous.author_id, at=at)


def changed_push(*, message: Message, change_seq: int) -> dict:
    """variants.push() of `message`'s bubble as it is now, moving pages to change `change_seq`."""
    return variants.push("message_changed", {**_line_data(changed_line(message)), "change_seq": change_seq})


@dataclass(frozen=True)
class ChangesMissed:
    """What changes_missed found: the `lines` to send again (their bubbles), whether the page's
    log should instead be `replace`d by them (the latest history), and `last`, the room's change
    number they bring the page to."""

    lines: list[LogLine]
    replace: bool
    last: int


def changes_none(*, after: int | None, upto: int | None, last: int | None) -> ChangesMissed | None:
    """Nothing missed, told without a query (changes_missed's first answer, for a caller on the
    event loop that has the room's change number `last`: no thread hop): a page that does not say
    what it has (`after` None), has every change up to `last`, or holds no message (`upto` 0 or
    None). None when the revisions must be read, or `last` is not known."""
    if last is None:
        return None
    if after is None or after >= last or not upto:
        return ChangesMissed([], False, last)
    return None


def changes_missed(
    *, room: Room, after: int | None, upto: int | None, limit: int | None = None, last: int | None = None
) -> ChangesMissed:
    """What a page that has `room`'s changes up to `after` (None: a page that does not say, taken
    to have them all) and its messages up to seq `upto` is missing: the current bubbles of the
    messages changed since, those it holds (seq ≤ `upto`), in seq order. More than `limit`
    (default settings.CHAT_HISTORY_LIMIT) messages changed: the latest history, to replace its
    log. Read in this order: the room's change number (or `last`, the caller's read of it),
    then the revisions up to it, then the messages, so the bubbles are at least as new as
    `last`. One query when nothing changed (none given `last`), else five (with the messages'
    reactions and attachments), or more with the history.
    """
    limit = settings.CHAT_HISTORY_LIMIT if limit is None else limit
    if last is None:
        last = Room.objects.filter(pk=room.pk).values_list("last_change_seq", flat=True).get()
    if (nothing := changes_none(after=after, upto=upto, last=last)) is not None:
        return nothing
    revisions = MessageRevision.objects.filter(room=room, change_seq__gt=after, change_seq__lte=last)
    # Through the room's manager: each message's `room` is this one, with no query for the bubble.
    changed = room.messages.filter(pk__in=revisions.values("message_id"), seq__lte=upto)
    messages = related_load(list(changed.select_related("author__profile").order_by("seq")[: limit + 1]))
    if len(messages) > limit:
        return ChangesMissed(message_history(room=room, limit=limit), True, last)
    before = {message.seq - 1 for message in messages}
    rows = Message.objects.filter(room=room, seq__in=before).values_list("seq", "author_id", "created_at")
    previous = {seq: (author_id, at) for seq, author_id, at in rows}
    lines = []
    for message in messages:
        author_id, at = previous.get(message.seq - 1, (None, None))
        lines.append(LogLine.after(message, author_id=author_id, at=at))
    return ChangesMissed(lines, False, last)
