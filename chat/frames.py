"""What the page may send on a room's socket, parsed into one of its frames.

The htmx ws extension sends a `ws-send` form's fields as a JSON object, plus a `HEADERS`
object (ignored here). Anything that is not one of the frames below (not JSON, nested too
deep, not an object, wrong types, binary) parses to None and is ignored: no input can raise
out of here and end the socket.
"""

import json
import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Sync:
    """`{"after": seq, "changes": n}` from the page's sync form: it has the messages up to `after`
    and the room's edits and deletions up to number `changes` (None if it did not say: chat.changes)."""

    after: int
    changes: int | None = None


@dataclass(frozen=True)
class Typing:
    """`{"typing": true}` from the message input while its text changes."""


@dataclass(frozen=True)
class Post:
    """`{"message": str, "key": uuid}` from the composer (the form validates both), or from a
    refused message's card with `"retry"`: sent again under the card's key."""

    message: str
    key: Any
    retry: bool = False


@dataclass(frozen=True)
class Discard:
    """`{"discard": …, "key": uuid}` from a refused message's card: drop the card."""

    key: Any


@dataclass(frozen=True)
class Scrolled:
    """`{"scrolled": "up"}` from "Jump to latest" as it comes into view (the reader scrolled up
    from the newest message), `{"scrolled": "bottom"}` from the log's end as it does (they are
    back at it): htmx's `intersect` trigger, no script."""

    up: bool


@dataclass(frozen=True)
class TooLarge:
    """A text frame over the size limit: refused with an error, unread."""


Frame = Sync | Typing | Post | Discard | Scrolled | TooLarge


def as_seq(value) -> int | None:
    """`value` as a seq (an int, or a string of digits, from 0 to 2**63 - 1), else None."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63:
        return value
    return None


def frame_parse(text: str | None, *, max_bytes: int) -> Frame | None:
    """The frame `text` carries (None for a binary frame), or None if it is none of them.
    A frame longer than `max_bytes` once UTF-8 encoded is TooLarge, whatever it holds."""
    if text is None:
        return None
    if len(text) * 4 > max_bytes and len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        return TooLarge()
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    if "after" in data:
        after = as_seq(data["after"])
        return None if after is None else Sync(after, as_seq(data.get("changes")))
    if data.get("typing") is True:
        return Typing()
    if "discard" in data:
        return Discard(data.get("key"))
    if data.get("scrolled") in ("up", "bottom"):
        return Scrolled(data["scrolled"] == "up")
    if isinstance(data.get("message"), str):
        return Post(data["message"], data.get("key"), retry="retry" in data)
    return None


class FrameBudget:
    """How many frames one socket may send: a token bucket of `burst` frames, refilled at
    `rate` a second (monotonic clock, or `clock` in tests). A page sends a sync every
    CHAT_SYNC_SECONDS, a typing frame every 3 s and a message now and then; a reconnecting page
    flushes its queue at once, which the burst allows.

    `take()` spends one frame (False if none is left: drop the frame); `exhausted` is True once
    the socket has gone on sending `burst` more frames with none left (a flood: close it).
    """

    def __init__(self, *, rate: float, burst: int, clock=time.monotonic):
        self.rate, self.burst, self.clock = rate, burst, clock
        self.tokens = float(burst)
        self.refused = 0
        self.last = clock()

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            self.refused = 0
            return True
        self.refused += 1
        return False

    @property
    def exhausted(self) -> bool:
        return self.refused >= self.burst
