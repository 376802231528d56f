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

Each read is also shared with every process through the shared cache (settings.CACHES: Redis,
or the file cache on one machine), under the same rules: the page's read serves the socket it
opens on another worker, and a crowd reconnecting after a deploy finds its reads there instead of
reading every session and user again (1.6 against 1.2 ms of CPU a connect, and a third of
PostgreSQL's work: docs/performance.md, "Session 26"). A shared read holds the user without their
password hash (a deferred field: read from the database if anything asks for it), and is kept
until the read's recheck time or the session's expiry, whichever is first; a socket's full access
check (chat.access, at least every RECHECK_SECONDS) shares a fresh one.

Used by the page views' authentication (site_config.page_auth), the handshakes'
(site_config.socket_auth) and the sockets' full access checks (chat.access).
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
from chat.shared_cache import cache_aget, cache_call

READS_KEPT = 10_000  # sessions remembered per process (least recently used dropped): ~1 KiB each


class SessionRead(NamedTuple):
    """What one read of a session found: its user (pickled without their password hash, a
    deferred field: each request or socket gets its own copy, which it may change or save), their
    id, the session's expiry and when it was read (Unix times)."""

    user: bytes
    user_id: int
    expiry: float
    read_at: float

    def user_copy(self):
        """A copy of the user read (with their profile, when it was loaded), for one request."""
        return pickle.loads(self.user)


_reads: "OrderedDict[str, SessionRead]" = OrderedDict()
_lock = threading.Lock()  # the event loop's thread and the sync views' threads share _reads


def session_read_shared_key(session_key: str) -> str:
    """The shared cache's key for session `session_key`'s read."""
    return f"tertulia:session-read:v1:{session_key}"


def session_reads_forget() -> None:
    """Forget every remembered read, and the shared copies of those this process remembered
    (tests; a process's memory otherwise keeps READS_KEPT, the cache each until its recheck)."""
    keys = [session_read_shared_key(key) for key in _reads]
    _reads.clear()
    if keys:
        cache_call(None, "delete_many", keys)


def _user_pickled(user) -> bytes:
    """`user` pickled without their password hash: the copies taken back have it deferred."""
    password = user.__dict__.pop("password", None)
    try:
        return pickle.dumps(user)
    finally:
        if password is not None:
            user.password = password


def _keep(key: str, read: SessionRead) -> None:
    with _lock:
        _reads[key] = read
        _reads.move_to_end(key)
        while len(_reads) > READS_KEPT:
            _reads.popitem(last=False)


def session_read_remember(session, key: str | None, user, read_at: float) -> SessionRead | None:
    """Remember that `session` (of an engine that keeps its expiry: site_config.sessions), read
    at `read_at` (Unix time, taken before the read) under `key`, logs in `user`: if it does, its
    store said its expiry, and its key is still `key` (no log-in or flush changed it meanwhile).
    The read remembered (to share: session_read_share), or None."""
    expiry = getattr(session, "expire_date", None)
    if not (key and user.is_authenticated and expiry is not None and session.session_key == key):
        return None
    read = SessionRead(_user_pickled(user), user.pk, expiry.timestamp(), read_at)
    _keep(key, read)
    return read


def _shared_for(read: SessionRead) -> int:
    """Whole seconds the shared cache keeps `read`: until its recheck or its session's expiry."""
    return int(min(read.expiry, read.read_at + RECHECK_SECONDS) - time.time())


def session_read_share(key: str, read: SessionRead) -> None:
    """Share `read` (of session `key`, from session_read_remember) with every process through the
    shared cache. Synchronous; one cache write (nothing if the cache is away, or the read is due
    for its recheck)."""
    if (seconds := _shared_for(read)) > 0:
        cache_call(None, "set", session_read_shared_key(key), read, timeout=seconds)


def session_read_renew(session, user, read_at: float) -> None:
    """Remember and share a fresh read of `session` (a socket's full access check: `user` read at
    `read_at`, Unix time), so that the socket's reconnect, in any process, finds it."""
    if (read := session_read_remember(session, session.session_key, user, read_at)) is not None:
        session_read_share(session.session_key, read)


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


def _shared_recalled(session_key: str, read: SessionRead, version: str | None) -> SessionRead | None:
    if not _vouches(read, version, time.time()):
        return None
    _keep(session_key, read)
    return read


def session_read_recall(session_key: str | None) -> SessionRead | None:
    """The remembered read of session `session_key`, this process's or else the shared one, if it
    still vouches for its session and user (the module's rules: one or two cache reads), else
    None (and this process's is forgotten). Synchronous."""
    if not session_key:
        return None
    read = _reads.get(session_key)
    if read is not None:
        return _recalled(session_key, read, _vouches(read, access_version_get(read.user_id), time.time()))
    read = cache_call(None, "get", session_read_shared_key(session_key))
    if not isinstance(read, SessionRead):
        return None
    return _shared_recalled(session_key, read, access_version_get(read.user_id))


async def session_read_arecall(session_key: str | None) -> SessionRead | None:
    """session_read_recall, from the event loop."""
    if not session_key:
        return None
    read = _reads.get(session_key)
    if read is not None:
        return _recalled(session_key, read, _vouches(read, await access_version_read(read.user_id), time.time()))
    read = await cache_aget(session_read_shared_key(session_key))
    if not isinstance(read, SessionRead):
        return None
    return _shared_recalled(session_key, read, await access_version_read(read.user_id))
