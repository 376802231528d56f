"""A reader's sidebar: the rooms and direct conversations they are in, with unread counts and
unread mentions.

The page renders it from `selectors.sidebar_entries`; a socket keeps a `Sidebar` of the same
entries and moves them forward as events arrive, so that a message in another room costs its
reader no query: only the entry whose count changed is re-rendered and sent.
"""

from dataclasses import dataclass, field

from .models import Room


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
