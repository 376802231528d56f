"""Where one socket's reader stands in a room's log: in order, exactly once."""

import enum


class Verdict(enum.Enum):
    """What a socket does with a live message event (Cursor.receive)."""

    FORWARD = "forward"  # the next one: send it
    DROP = "drop"  # already sent, or the reader has not said where it stands yet
    GAP = "gap"  # one or more before it were lost or reordered: catch up from the database


class Cursor:
    """The seq of the newest message a socket has sent its reader (`seq`), or None until the
    reader's first sync says where it stands.

    Live events before that first sync are dropped (the sync's catch-up, read from the database
    after they were committed, includes them), the highest seq among them kept (`seen`: the
    room's newest, as the socket knows it without a query). After it, an event is forwarded only if it is the
    next one; a duplicate is dropped; a gap is repaired by a catch-up, which moves the cursor
    to what it sent (`caught_up`).
    """

    def __init__(self):
        self.seq: int | None = None
        self.seen = 0  # the highest seq received before the first sync

    def start(self, *, after: int, last_seq: int) -> None:
        """The reader has messages up to `after`; the room's newest is `last_seq` (a reader
        claiming more than that is held to it)."""
        self.seq = min(after, last_seq)

    def receive(self, seq: int, *, readable: bool = True) -> Verdict:
        """The verdict on a live event for message `seq`; FORWARD moves the cursor to it. An event
        not `readable` here (its push left this socket's variant out) is a GAP where it would be
        forwarded: the catch-up reads it."""
        if self.seq is None:
            self.seen = max(self.seen, seq)
            return Verdict.DROP
        if seq <= self.seq:
            return Verdict.DROP
        if seq == self.seq + 1 and readable:
            self.seq = seq
            return Verdict.FORWARD
        return Verdict.GAP

    def caught_up(self, seq: int) -> None:
        """A catch-up sent the reader messages up to `seq`."""
        self.seq = seq
