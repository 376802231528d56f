"""A reader's sidebar: the rooms and direct conversations they are in, with unread counts and
unread mentions.

The page renders it from `sidebar_entries`; a socket keeps a `Sidebar` of the same entries and
moves them forward as events arrive, so that a message in another room costs its reader no
query: only the entry whose count changed is re-rendered and sent.
"""

from dataclasses import dataclass, field
from typing import NamedTuple

from site_config.model_rows import ModelRows, rows_read

from .mentions import mentions_unread
from .models import Membership, Mention, Room
from .selectors import room_titles


class ShownRoom(NamedTuple):
    pk: int
    slug: str
    is_direct: bool
    is_archived: bool


class ShownEntry(NamedTuple):
    """What the sidebar's templates (templates/jinja2/chat/sidebar/) show of an entry, all they
    may read of it: the key its render is kept by (chat.fragments.sidebar)."""

    room: ShownRoom
    title: str
    unread: int
    mentions: int


@dataclass
class SidebarEntry:
    """One room as one reader's sidebar shows it.

    `title` is the room's name, or for a direct conversation the other people's usernames.
    `last_seq` is the room's newest message seq as this reader knows it, `last_read_seq` their
    read marker; `unread` (the only place the count is computed) is the difference.
    `mention_seqs` are the seqs of messages that mention this reader there, in order; those after
    the read marker are its `mentions` (the mention badge).
    """

    room: Room
    title: str
    last_seq: int
    last_read_seq: int
    mention_seqs: list[int] = field(default_factory=list)

    @property
    def unread(self) -> int:
        return max(self.last_seq - self.last_read_seq, 0)

    @property
    def mentions(self) -> int:
        return sum(1 for seq in self.mention_seqs if seq > self.last_read_seq)

    def shown(self) -> ShownEntry:
        """What the sidebar shows of this entry now (its render's key)."""
        room = ShownRoom(self.room.pk, self.room.slug, self.room.is_direct, self.room.is_archived)
        return ShownEntry(room, self.title, self.unread, self.mentions)


class Sidebar:
    """The entries of one socket's sidebar, by room id, and the room its page is on (if any)."""

    def __init__(self, entries: list[SidebarEntry] = (), current_room_id: int | None = None):
        self.entries = {entry.room.pk: entry for entry in entries}
        self.current_room_id = current_room_id

    def replace(self, entries: list[SidebarEntry]) -> tuple[set[int], set[int]]:
        """Take freshly read `entries`; returns the room ids `(added, removed)` since the last."""
        fresh = {entry.room.pk: entry for entry in entries}
        added, removed = fresh.keys() - self.entries.keys(), self.entries.keys() - fresh.keys()
        self.entries = fresh
        return added, removed

    def ordered(self) -> list[SidebarEntry]:
        return list(self.entries.values())

    def move(
        self, room_id: int, *, last_seq: int = 0, last_read_seq: int = 0, mentioned: bool = False
    ) -> SidebarEntry | None:
        """Move room `room_id`'s markers forward (never back), counting message `last_seq` as a
        mention of this reader if `mentioned`; returns its entry if its unread or mention count
        changed (to be re-sent), else None (also for a room not in the sidebar)."""
        entry = self.entries.get(room_id)
        if entry is None:
            return None
        counts = entry.unread, entry.mentions
        entry.last_seq = max(entry.last_seq, last_seq)
        entry.last_read_seq = max(entry.last_read_seq, last_read_seq)
        if mentioned and last_seq not in entry.mention_seqs:
            entry.mention_seqs.append(last_seq)
        # Read mentions are forgotten: the list holds only what the badge may still count.
        entry.mention_seqs = [seq for seq in entry.mention_seqs if seq > entry.last_read_seq]
        return entry if (entry.unread, entry.mentions) != counts else None

    def room_at(self, slug: str) -> Room | None:
        """The room at `slug` among this sidebar's (the reader is its member), or None."""
        return next((entry.room for entry in self.entries.values() if entry.room.slug == slug), None)

    def title(self, room_id: int, default: str) -> str:
        entry = self.entries.get(room_id)
        return entry.title if entry else default

    def unread_elsewhere(self) -> int:
        """How many messages are unread in the rooms other than the current one (the tab title's count)."""
        return sum(entry.unread for room_id, entry in self.entries.items() if room_id != self.current_room_id)


# The reader's memberships with their rooms, and whether each has a mention after the reader's
# marker. Written once rather than built by the ORM at each read: every room page and every
# socket's connect reads it, and Django building and compiling the same statement (a
# select_related and an Exists) cost three times its execution (1.45 ms against 0.38 in all,
# measured on PostgreSQL: docs/performance.md). Standard SQL, for all three databases; the
# room's columns become a Room as the ORM would make it (site_config.model_rows), the
# membership's two that room's extra attributes.
_ROOM_ROWS = ModelRows(Room)
_SIDEBAR_SQL = f"""
SELECT {_ROOM_ROWS.columns("room")}, membership.last_read_seq, membership.user_id,
    EXISTS(SELECT 1 FROM {Mention._meta.db_table} mention WHERE mention.user_id = membership.user_id
        AND mention.room_id = membership.room_id AND mention.seq > membership.last_read_seq)
FROM {Membership._meta.db_table} membership INNER JOIN {Room._meta.db_table} room ON room.id = membership.room_id
WHERE membership.user_id IN ({{users}})
"""


def _sidebars_rows(users: list) -> dict[int, list[tuple]]:
    """The rows of _SIDEBAR_SQL for `users`, by user id."""
    ids = list({user.pk for user in users})
    rows: dict[int, list[tuple]] = {user_id: [] for user_id in ids}
    for row in rows_read(_SIDEBAR_SQL.format(users=", ".join(["%s"] * len(ids))), ids):
        rows[row[_ROOM_ROWS.width + 1]].append(row)
    return rows


def _room_made(row) -> Room:
    """The room of `row` (_SIDEBAR_SQL), with `sidebar_last_read_seq` and `sidebar_mentioned` (truthy)."""
    room = _ROOM_ROWS.make(row[: _ROOM_ROWS.width])
    room.sidebar_last_read_seq, _user_id, room.sidebar_mentioned = row[_ROOM_ROWS.width :]
    return room


def sidebar_entries(user) -> list[SidebarEntry]:
    """The rooms `user` is a member of, as their sidebar lists them (sidebars_entries)."""
    return sidebars_entries([user])[0]


def sidebars_entries(users: list) -> list[list[SidebarEntry]]:
    """The sidebar of each of `users`, in their order (a user twice gets two, with instances of
    their own): the rooms they are a member of, rooms by title, then direct conversations by title,
    each with its unread mentions. One query for all; for each user, one more if any of their rooms
    is direct, one more if any has unread mentions. A crowd's sockets read theirs together
    (chat.consumers.sidebar)."""
    rows_of = _sidebars_rows(users)
    return [_entries([_room_made(row) for row in rows_of[user.pk]], user) for user in users]


def _entries(rooms: list[Room], user) -> list[SidebarEntry]:
    titles = room_titles(rooms, user)
    mentioned = mentions_unread(user) if any(room.sidebar_mentioned for room in rooms) else {}
    entries = [
        SidebarEntry(
            room,
            titles[room.pk],
            last_seq=room.last_seq,
            last_read_seq=room.sidebar_last_read_seq,
            mention_seqs=mentioned.get(room.pk, []),
        )
        for room in rooms
    ]
    return sorted(entries, key=lambda entry: (entry.room.is_direct, entry.title.casefold(), entry.room.pk))
