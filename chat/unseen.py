"""How many messages came while the reader was scrolled up: the number "Jump to latest" shows.

The page says when its reader scrolls up from the newest message and when they are back at it
(frames.Scrolled: htmx's `intersect` trigger on "Jump to latest", which shows only while the
log is scrolled up, and on the log's end). While they are up, each message of someone else's
that this socket sends (live, or caught up after a gap) adds one, and the control's label is pushed to this socket alone
("3 new messages"). Scrolling up again starts from none. No frame per message comes from the
page: two per scroll, at most.
"""

from . import fragments


class Unseen:
    """One socket's count, for its reader `user_id`."""

    def __init__(self, user_id: int):
        self.user_id = user_id
        self.up = False
        self.count = 0

    def scrolled(self, *, up: bool) -> str | None:
        """The reader scrolled up (`up`: the label, counting from none) or back to the newest
        message (its plain text again if it was counting, else None)."""
        counted, self.up, self.count = self.count, up, 0
        if up:
            return fragments.jump_label(unseen=0)
        return fragments.jump_label(unseen=None) if counted else None

    def arrived(self, author_ids: list[int]) -> str | None:
        """Messages by `author_ids` were sent to the page (live, or caught up after a gap): the
        label with the count to send while the reader is up and some are someone else's, else
        None."""
        others = sum(author_id != self.user_id for author_id in author_ids)
        if not self.up or not others:
            return None
        self.count += others
        return fragments.jump_label(unseen=self.count)
