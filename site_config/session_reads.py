"""A process's remembered reads of sessions: which user each one logged in, trusted again, with no
query, while nothing that may end access has changed since.

Reading a signed-in request's user costs two queries (the session, then the user with their
profile), for every page view and every socket's handshake alike. A read is remembered here per
session key (READS_KEPT of them, the least recently used dropped) and vouches for its session
and user again while:

- the user's access version (chat.access) was made more than CLOCK_SKEW_SECONDS before the read:
  whatever may end their access or change what a request takes from them (a log-out or deleted
  session, a deactivation, a password or username change, a profile saved: chat/signals.py)
  changes it once committed, so it would be newer;
- the session has not reached the expiry read then;
- the read is younger than RECHECK_SECONDS (a row changed by raw SQL, or a lost version, is seen
  within that time, as a socket's gate sees it).

A limit, as for the sockets' gates: an ending whose version change failed (the cache away at that
moment, which is logged) is seen by a read remembered before it only at its recheck.

Used by the page views' authentication (site_config.page_auth) and the handshakes'
(site_config.socket_auth).
"""

import pickle
import threading
import time
from collections import OrderedDict
from typing import NamedTuple

from chat.access import (
    CLOCK_SKEW_SECONDS,
    RECHECK_SECONDS,
    access_version_get,
    access_version_read,
    access_version_time,
)

READS_KEPT = 10_000  # sessions remembered per process (least recently used dropped): ~1 KiB each


class SessionRead(NamedTuple):
    """What one read of a session found: its user (pickled: each request or socket gets its own
    copy, which it may change), their id, the session's expiry and when it was read (Unix times)."""

    user: bytes
    user_id: int
    expiry: float
    read_at: float

    def user_copy(self):
        """A copy of the user read (with their profile, when it was loaded), for one request."""
        return pickle.loads(self.user)


_reads: "OrderedDict[str, SessionRead]" = OrderedDict()
_lock = threading.Lock()  # the event loop's thread and the sync views' threads share _reads


def session_reads_forget() -> None:
    """Forget every remembered read (tests; a process's memory otherwise keeps READS_KEPT)."""
    _reads.clear()


def session_read_remember(session, key: str | None, user, read_at: float) -> bool:
    """Remember that `session` (of an engine that keeps its expiry: site_config.sessions), read
    at `read_at` (Unix time, taken before the read) under `key`, logs in `user`: if it does, its
    store said its expiry, and its key is still `key` (no log-in or flush changed it meanwhile).
    Whether it was remembered."""
    expiry = getattr(session, "expire_date", None)
    if not (key and user.is_authenticated and expiry is not None and session.session_key == key):
        return False
    read = SessionRead(pickle.dumps(user), user.pk, expiry.timestamp(), read_at)
    with _lock:
        _reads[key] = read
        _reads.move_to_end(key)
        while len(_reads) > READS_KEPT:
            _reads.popitem(last=False)
    return True


def _vouches(read: SessionRead, version: str | None, now: float) -> bool:
    if read.expiry <= now or now - read.read_at >= RECHECK_SECONDS:
        return False
    made = access_version_time(version)
    return made is not None and made <= read.read_at - CLOCK_SKEW_SECONDS


def _recalled(session_key: str, read: SessionRead, vouches: bool) -> SessionRead | None:
    with _lock:
        if not vouches:
            _reads.pop(session_key, None)
            return None
        if session_key in _reads:
            _reads.move_to_end(session_key)
    return read


def session_read_recall(session_key: str | None) -> SessionRead | None:
    """The remembered read of session `session_key` if it still vouches for its session and user
    (the module's rules: one cache read), else None (and it is forgotten). Synchronous."""
    read = _reads.get(session_key) if session_key else None
    if read is None:
        return None
    return _recalled(session_key, read, _vouches(read, access_version_get(read.user_id), time.time()))


async def session_read_arecall(session_key: str | None) -> SessionRead | None:
    """session_read_recall, from the event loop."""
    read = _reads.get(session_key) if session_key else None
    if read is None:
        return None
    return _recalled(session_key, read, _vouches(read, await access_version_read(read.user_id), time.time()))
