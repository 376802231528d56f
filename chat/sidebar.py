"""A reader's sidebar: the rooms and direct conversations they are in, with unread counts.

The page renders it from `selectors.sidebar_entries`; a socket keeps a `Sidebar` of the same
entries and moves them forward as events arrive, so that a message in another room costs its
reader no query: only the entry whose count changed is re-rendered and sent.
"""

from dataclasses import dataclass

from .models import Room


@dataclass
class SidebarEntry:
    """One room as one reader's sidebar shows it.

    `title` is the room's name, or for a direct conversation the other people's usernames.
    `last_seq` is the room's newest message seq as this reader knows it, `last_read_seq` their
    read marker; `unread` (the only place the count is computed) is the difference.
    """

    room: Room
    title: str
    last_seq: int
    last_read_seq: int

    @property
    def unread(self) -> int:
        return max(self.last_seq - self.last_read_seq, 0)


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

    def move(self, room_id: int, *, last_seq: int = 0, last_read_seq: int = 0) -> SidebarEntry | None:
        """Move room `room_id`'s markers forward (never back); returns its entry if its unread
        count changed (to be re-sent), else None (also for a room not in the sidebar)."""
        entry = self.entries.get(room_id)
        if entry is None:
            return None
        unread = entry.unread
        entry.last_seq = max(entry.last_seq, last_seq)
        entry.last_read_seq = max(entry.last_read_seq, last_read_seq)
        return entry if entry.unread != unread else None

    def title(self, room_id: int, default: str) -> str:
        entry = self.entries.get(room_id)
        return entry.title if entry else default
