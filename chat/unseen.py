"""How many messages came while the reader was scrolled up: the number "Jump to latest" shows.

The page says when its reader scrolls up from the newest message and when they are back at it
(frames.Scrolled: htmx's `intersect` trigger on "Jump to latest", which shows only while the
log is scrolled up, and on the log's end). While they are up, each message of someone else's
that this socket forwards adds one, and the control's label is pushed to this socket alone
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
        """The reader scrolled up (`up`) or back to the newest message: the label to send (its
        plain text again, if it was counting), or None."""
        counted, self.up, self.count = self.count, up, 0
        return fragments.jump_label(unseen=0) if counted else None

    def arrived(self, author_id: int) -> str | None:
        """A message by `author_id` was forwarded: the label with the count to send while the
        reader is up and it is someone else's, else None."""
        if not self.up or author_id == self.user_id:
            return None
        self.count += 1
        return fragments.jump_label(unseen=self.count)
