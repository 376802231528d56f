"""Read queries: what a reader may see, and pages of a room's log (the sidebar's: chat.sidebar).

Nothing here writes. Each function says how many queries it costs; the message pages use the
(room, seq) unique index. Days are calendar days in the active time zone.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from .models import Attachment, Membership, Message, Reaction, Room

# A message follows the one before it in the same group (no name or time of its own) if the
# same author wrote it within this long, on the same day.
GROUP_WINDOW = datetime.timedelta(minutes=5)


@dataclass(frozen=True)
class LogLine:
    """One message as the log shows it: `new_day` where a day separator goes before it, and
    `continued` where it joins the group of the message before it (same author, same day,
    within GROUP_WINDOW). `previous_author_id` and `previous_at` are what it was told against,
    so that a push can tell it again in another reader's time zone (chat.variants). `html`: its
    bubble already rendered in the active variant (chat.latest's kept pages), else None."""

    message: Message
    new_day: bool
    continued: bool = False
    previous_author_id: int | None = None
    previous_at: datetime.datetime | None = None
    html: str | None = None

    @property
    def day(self) -> datetime.date:
        return self.message.day

    @property
    def posted_here(self) -> datetime.datetime:
        """When the message was posted, aware, in the current time zone (the reader's): what the
        day separator names. Django's naturalday takes "today" in its value's own zone, and for a
        plain date in the server's, which put a Bogotá reader's evening under "Ayer"."""
        return timezone.localtime(self.message.created_at)

    @classmethod
    def after(cls, message: Message, *, author_id: int | None, at: datetime.datetime | None) -> "LogLine":
        """`message` as the line after one by `author_id` posted `at` (both None: none before)."""
        new_day = at is None or timezone.localdate(at) != message.day
        continued = not new_day and author_id == message.author_id and message.created_at - at <= GROUP_WINDOW
        return cls(message, new_day, continued, author_id, at)


def _lines(messages: list[Message], previous: Message | None = None) -> list[LogLine]:
    """`messages` (in seq order) as log lines, each against the message before it; the first
    against `previous` (None: it starts a day and a group)."""
    lines = []
    for message in messages:
        at = previous and previous.created_at
        lines.append(LogLine.after(message, author_id=previous and previous.author_id, at=at))
        previous = message
    return lines


def rooms_visible_to(user) -> QuerySet[Room]:
    """The rooms `user` may see and open: every public room, and the private ones they are in.
    A queryset (no query until read)."""
    member = Membership.objects.filter(room=OuterRef("pk"), user=user)
    return Room.objects.filter(Q(is_private=False) | Q(Exists(member)))


def room_index(user, search: str = "") -> QuerySet[Room]:
    """The rooms the index lists for `user`: visible, direct conversations aside (those are in
    the sidebar), most recently active first; with `search`, those whose name contains it
    (whatever its case or accent composition). A queryset: paginate it."""
    rooms = rooms_visible_to(user).filter(direct_key=None)
    if search:
        key = Room.key_for(search)
        rooms = rooms.filter(Q(name_key__contains=key) | Q(is_private=True, name__icontains=search))
    return rooms


def room_exists(*, name: str) -> bool:
    """Whether a public room is called `name` (as Room.key_for matches names). One query."""
    return Room.objects.filter(name_key=Room.key_for(name)).exists()


def room_titles(rooms: list[Room], reader) -> dict[int, str]:
    """Each of `rooms`' title as `reader` sees it, by room id: its name, or for a direct
    conversation the other people's usernames ("bea, cy"). One query if any is direct."""
    direct = [room.pk for room in rooms if room.is_direct]
    others: dict[int, list[str]] = {}
    if direct:
        rows = (
            Membership.objects.filter(room__in=direct)
            .exclude(user=reader)
            .order_by("user__username")
            .values_list("room_id", "user__username")
        )
        for room_id, username in rows:
            others.setdefault(room_id, []).append(username)
    return {room.pk: ", ".join(others.get(room.pk, [])) or room.name for room in rooms}


def room_title(room: Room, reader) -> str:
    """`room`'s title as `reader` sees it (room_titles)."""
    return room_titles([room], reader)[room.pk]


MEMBERS_SHOWN = 100  # the members a room's page lists by name; "and N more" for the rest


def room_members(room: Room, limit: int | None = MEMBERS_SHOWN) -> tuple[list, int]:
    """`room`'s members (users), by username, at most `limit` of them, each with its profile (for
    display names), and how many members it has in all. One query, two when there are `limit`
    or more."""
    members = get_user_model().objects.filter(memberships__room=room).select_related("profile")
    shown = list(members.order_by("username")[:limit])
    return shown, len(shown) if limit is None or len(shown) < limit else room.memberships.count()


_none_loaded: dict[str, QuerySet] = {}  # per relation: one empty queryset, read and never changed


def related_restore(message: Message, name: str, rows: list) -> None:
    """Make `rows` (instances of the relation's model) what `message.<name>.all()` returns,
    with no query, as prefetch_related would: for a message without any (most), one empty
    queryset shared by all (filtering it further gives none, as it should); with some, one
    filtered to the message. For related_load, and chat.attachments for what it builds."""
    manager = getattr(Message, name)
    model, field = manager.rel.related_model, manager.field.name
    if rows:
        queryset = model.objects.filter(**{field: message})
        queryset._result_cache, queryset._prefetch_done = rows, True
        for row in rows:
            setattr(row, field, message)
    elif name in _none_loaded:
        queryset = _none_loaded[name]
    else:
        queryset = _none_loaded[name] = model.objects.none()
        queryset._result_cache, queryset._prefetch_done = [], True
    message.__dict__.setdefault("_prefetched_objects_cache", {})[name] = queryset


def related_load(messages: list[Message]) -> list[Message]:
    """`messages` (a list) with their reactions (users and profiles joined, in the order made:
    chat.reactions' bar) and attachments loaded, in two queries (none without messages), as
    prefetch_related would load them: Django's prefetch builds a filtered queryset per message
    and relation, which was most of reading a page of history (16.5 -> 5 ms for 50 here)."""
    reactions: dict[int, list] = {message.pk: [] for message in messages}
    attachments: dict[int, list] = {message.pk: [] for message in messages}
    if messages:
        joined = Reaction.objects.select_related("user__profile").order_by("pk")
        for reaction in joined.filter(message_id__in=reactions):
            reactions[reaction.message_id].append(reaction)
        for attachment in Attachment.objects.filter(message_id__in=attachments).order_by("pk"):
            attachments[attachment.message_id].append(attachment)
    for message in messages:
        related_restore(message, "reactions", reactions[message.pk])
        related_restore(message, "attachments", attachments[message.pk])
    return messages


def _log_rows(room: Room) -> QuerySet[Message]:
    """`room`'s messages as the log shows them, authors and profiles joined: load the page's
    reactions and attachments with related_load (three queries in all)."""
    return room.messages.select_related("author__profile")


# Written out (standard SQL, for all three databases): the ORM's building and compiling of this
# one-row read cost three times its execution (265 µs of CPU against 68 on PostgreSQL), and every
# socket's sync (each connect, then every CHAT_SYNC_SECONDS) makes it.
_ROOM_SEQS_SQL = f"SELECT last_seq, last_change_seq FROM {Room._meta.db_table} WHERE id = %s"


def room_seqs(room_id: int) -> tuple[int, int]:
    """Room `room_id`'s newest message seq and newest change number (chat.changes): `(last_seq,
    last_change_seq)`, 0 for none. One query. Raises Room.DoesNotExist if there is no such room."""
    with connection.cursor() as cursor:
        cursor.execute(_ROOM_SEQS_SQL, [room_id])
        row = cursor.fetchone()
    if row is None:
        raise Room.DoesNotExist(f"no room {room_id}")
    return int(row[0]), int(row[1])


def message_history(*, room: Room, limit: int | None = None) -> list[LogLine]:
    """The latest `limit` messages of `room` (default settings.CHAT_HISTORY_LIMIT), oldest
    first, the first one starting a day. Two queries (_log_rows)."""
    limit = settings.CHAT_HISTORY_LIMIT if limit is None else limit
    latest = related_load(list(_log_rows(room).order_by("-seq")[:limit]))
    return _lines(list(reversed(latest)))


def messages_before(*, room: Room, before: int, limit: int | None = None) -> list[LogLine]:
    """The `limit` messages of `room` just before seq `before` (default
    settings.CHAT_HISTORY_LIMIT), oldest first, the first one starting a day: a page of older
    history. Two queries (_log_rows)."""
    limit = settings.CHAT_HISTORY_LIMIT if limit is None else limit
    older = related_load(list(_log_rows(room).filter(seq__lt=before).order_by("-seq")[:limit]))
    return _lines(list(reversed(older)))


def messages_after(*, room: Room, after: int, limit: int | None = None) -> list[LogLine]:
    """The `limit` messages of `room` just after seq `after` (default settings.CHAT_HISTORY_LIMIT),
    oldest first, the first one's day and group told against message `after`: a page of newer
    history, or the page that opens at the reader's first unread. Two queries (_log_rows)."""
    limit = settings.CHAT_HISTORY_LIMIT if limit is None else limit
    rows = related_load(list(_log_rows(room).filter(seq__gte=after).order_by("seq")[: limit + 1]))
    previous = rows.pop(0) if rows and rows[0].seq == after else None
    return _lines(rows[:limit], previous)


def message_day(*, room: Room, seq: int) -> datetime.date | None:
    """The day message `seq` of `room` was posted on, or None if there is none. One query."""
    message = room.messages.filter(seq=seq).only("created_at").first()
    return message.day if message else None


def messages_missed(*, room: Room, after: int, limit: int | None = None) -> tuple[list[LogLine], bool]:
    """What a reader who has `room`'s messages up to seq `after` is missing: `(lines, replace)`.

    Normally the messages after `after`, oldest first, a day started against the reader's last
    one, and `replace` False: append them. If more than `limit` (default
    settings.CHAT_HISTORY_LIMIT) are missing, the latest history instead, and `replace` True:
    the reader's log should be replaced by it. Two or four queries (_log_rows).
    """
    limit = settings.CHAT_HISTORY_LIMIT if limit is None else limit
    rows = related_load(list(_log_rows(room).filter(seq__gte=max(after, 1)).order_by("seq")[: limit + 2]))
    previous = rows.pop(0) if rows and rows[0].seq == after else None
    if len(rows) > limit:
        return message_history(room=room, limit=limit), True
    return _lines(rows, previous), False
