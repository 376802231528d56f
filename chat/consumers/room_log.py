"""What a room page's socket does to keep the page's log whole: the sync (the page's heartbeat and
every (re)connect's catch-up), the catch-ups from the database, the edits and deletions, and the
reader's marker. A part of RoomConsumer (chat.consumers.room), which keeps `room`, `cursor`,
`changes`, `unseen` and `sidebar`."""

from channels.db import database_sync_to_async

from .. import broadcasts, fragments, selectors, variants
from ..changes import changes_html, changes_missed, changes_none
from ..cursor import Verdict
from ..memberships import membership_mark_read
from ..presence_pushes import presence_renew
from ..variant_rooms import variant_note

# Reads and marker moves run on the thread pool.
read_missed = database_sync_to_async(selectors.messages_missed, thread_sensitive=False)
mark_read = broadcasts.sends_from_loop(membership_mark_read)
read_changes = database_sync_to_async(changes_missed, thread_sensitive=False)
read_seqs = database_sync_to_async(selectors.room_seqs, thread_sensitive=False)


class RoomLog:
    """The log-keeping handlers of a room page's socket (RoomConsumer's, as a mixin)."""

    marked: int | None = None  # the reader's marker as this socket last read or moved it
    # The room's newest seq and change number as read when the socket was admitted, after it joined the
    # room's groups (RoomConsumer.groups_early); None if the channel layer was away then.
    seqs_admitted: tuple[int, int] | None = None

    def log_replace(self, lines: list, cursor: int) -> str:
        """The page's whole log replaced by `lines` (selectors.LogLine), its cursor at seq `cursor`."""
        title = self.sidebar.title(self.room.pk, self.room.name)
        return fragments.log_replace(room=self.room, title=title, lines=lines, cursor=cursor)

    async def sync(self, after: int, changes: int | None = None) -> None:
        """The page has messages up to seq `after` and the room's changes up to `changes`: the first sync starts
        the cursors. Each sends what the page is missing (changed bubbles first: read before the messages, which
        are then at least as new) and moves the read marker to what it has (one UPDATE when it moved, not one a
        message). The room's newest seq and change number come first, in one query (most syncs read nothing
        else); the first sync knows them without one (seqs_known), and its groups and presence were made by its
        connect just now. Every other re-adds the socket's groups (after a layer outage) and is its presence
        heartbeat."""
        known = self.seqs_known() if self.cursor.seq is None else None
        last_seq, last_change_seq = known or await read_seqs(self.room.pk)
        if self.cursor.seq is None:
            self.cursor.start(after=after, last_seq=last_seq)
        if known is None:
            await self.groups_renew()
            await variant_note(room_id=self.room.pk, key=self.variant.key)
        await self.catch_up_changes(changes, last=last_change_seq)
        if last_seq > self.cursor.seq:
            await self.catch_up()
        await self.mark_read()
        if known is None:
            await presence_renew(room=self.room, user=self.scope["user"], channel_name=self.channel_name)

    def seqs_known(self) -> tuple[int, int] | None:
        """The room's newest seq and change number without a query, before the first sync: the admission's
        read, or the newest event since (anything committed after that read arrives as one: the room's groups
        were joined first). None when an event may have been missed: the groups joined with the channel
        layer away, or events dropped (chat.consumers.base.INBOX_LIMIT)."""
        if self.seqs_admitted is None or self.dropped:
            return None
        return max(self.seqs_admitted[0], self.cursor.seen), max(self.seqs_admitted[1], self.changes.seen)

    async def mark_read(self) -> None:
        """Move the reader's marker to this socket's cursor, if that is past the marker as this socket
        last read or moved it (the marker never moves back: membership_mark_read)."""
        if self.cursor.seq and self.cursor.seq > (self.marked or 0):
            await mark_read(room=self.room, user=self.scope["user"], seq=self.cursor.seq)
            self.marked = self.cursor.seq

    async def catch_up(self) -> None:
        """Send, from the database, the room's messages after this socket's cursor."""
        lines, replace = await read_missed(room=self.room, after=self.cursor.seq)
        if not lines:
            return
        self.cursor.caught_up(cursor := lines[-1].message.seq)
        html = self.log_replace(lines, cursor) if replace else fragments.messages_append(lines=lines, cursor=cursor)
        await self.send(text_data=html)
        if label := self.unseen.arrived([line.message.author_id for line in lines]):
            await self.send(text_data=label)

    async def catch_up_changes(self, page_has: int | None = None, last: int | None = None) -> None:
        """Send, from the database, the current bubbles of the page's messages edited or deleted
        after this socket's change cursor (before the first sync's: after the page's `page_has`)
        up to the room's change number (`last`, if just read), and move both; too many, and
        the log is replaced by the latest history."""
        after = page_has if self.changes.seq is None else self.changes.seq
        where = {"after": after, "upto": self.cursor.seq, "last": last}
        missed = changes_none(**where) or await read_changes(room=self.room, **where)  # no hop if it says
        self.changes.caught_up(missed.last)
        if missed.replace:
            self.cursor.caught_up(cursor := missed.lines[-1].message.seq)
        if after is None or missed.last == after:
            return  # nothing the page lacks (its first sync's every connect): nothing rendered
        html = changes_html(lines=[] if missed.replace else missed.lines, change_seq=missed.last)
        if missed.replace:
            html = self.log_replace(missed.lines, cursor) + html
        await self.send(text_data=html)

    async def message_changed(self, event):
        """A message of this room was edited or deleted: its new bubble is forwarded if this is the
        page's next change (a gap is caught up from the database); a message the page does not
        have yet is first caught up from the database, as it is now."""
        verdict = self.changes.receive(event["change_seq"])
        if verdict is Verdict.DROP:
            return
        if event["seq"] > self.cursor.seq:
            await self.catch_up()
        if verdict is Verdict.FORWARD:
            await self.send(text_data=variants.push_html(event, self.variant))
        else:
            await self.catch_up_changes()
