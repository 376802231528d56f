"""A WebSocket handshake's user: Channels' session authentication, remembering per session (in
this process) the user it read, trusted again while nothing that may end access has changed.

Channels' AuthMiddleware reads the session and then the user (with their profile) at every
handshake: two queries and a thread hop, most of a connect's database work when a page's socket
reconnects or a crowd arrives at once. Here a handshake whose session this process read before
takes that read's user instead, with no query, when the user's access version (chat.access) was
made more than CLOCK_SKEW_SECONDS before that read (so that whatever may end their access, or
change what a socket takes from their profile, committed since would have changed it), the
session has not reached the expiry read then, and the read is younger than RECHECK_SECONDS (a
row changed by raw SQL, or a lost version, is seen within that time, as by a socket's gate).
Anything else reads as Channels does, and remembers that read.

`scope["auth_read_at"]` (Unix time) says when the session and user the scope carries were read,
for the socket's first access check (chat.access.AccessGate.first_check): before this read, or
the remembered read's time.
"""

import pickle
import time
from collections import OrderedDict
from datetime import UTC, datetime
from typing import NamedTuple

from channels.auth import AuthMiddleware
from channels.sessions import CookieMiddleware, SessionMiddleware

from chat.access import CLOCK_SKEW_SECONDS, RECHECK_SECONDS, access_version_read, access_version_time

READS_KEPT = 10_000  # sessions remembered per process (least recently used dropped): ~1 KiB each


class SessionRead(NamedTuple):
    """What one handshake read of a session: its user (pickled: every socket gets its own copy,
    which it changes), their id, the session's expiry and when it was read (Unix times)."""

    user: bytes
    user_id: int
    expiry: float
    read_at: float


_reads: "OrderedDict[str, SessionRead]" = OrderedDict()


def session_reads_forget() -> None:
    """Forget every remembered read (tests; a process's memory otherwise keeps READS_KEPT)."""
    _reads.clear()


def _remember(session_key: str, read: SessionRead) -> None:
    _reads[session_key] = read
    _reads.move_to_end(session_key)
    while len(_reads) > READS_KEPT:
        _reads.popitem(last=False)


async def _still_current(read: SessionRead, now: float) -> bool:
    """Whether `read` vouches for its session and user at `now`: see the module."""
    if read.expiry <= now or now - read.read_at >= RECHECK_SECONDS:
        return False
    made = access_version_time(await access_version_read(read.user_id))
    return made is not None and made <= read.read_at - CLOCK_SKEW_SECONDS


class HandshakeAuthMiddleware(AuthMiddleware):
    """Channels' AuthMiddleware (the same rules: the session's user if its backend and session
    hash still hold, else AnonymousUser; see channels.auth.get_user), answered from this
    process's remembered read of the session when that read is still current (the module), and
    setting `scope["auth_read_at"]`. `scope["user"]` is the user itself, read at the handshake,
    not Channels' lazy proxy of it. Needs Channels' SessionMiddleware around it and the
    session engine site_config.sessions (whose store keeps the expiry it loaded).

    The socket's first access check reads the user's version once more, after joining the user's
    group: an ending committed between this read and that join reaches it no other way."""

    async def resolve_scope(self, scope):
        session = scope["session"]
        key, now = session.session_key, time.time()
        read = _reads.get(key) if key else None
        if read is not None and await _still_current(read, now):
            _reads.move_to_end(key)
            scope["user"] = pickle.loads(read.user)
            session.expire_date = datetime.fromtimestamp(read.expiry, tz=UTC)
            scope["auth_read_at"] = read.read_at
            return
        _reads.pop(key, None)
        scope["auth_read_at"] = now
        await super().resolve_scope(scope)  # Channels' read: the session, then the user
        user, expiry = scope["user"]._wrapped, getattr(session, "expire_date", None)
        scope["user"] = user  # no proxy: its every attribute read was a Python call (2% of a message)
        if key and user.is_authenticated and expiry is not None and session.session_key == key:
            _remember(key, SessionRead(pickle.dumps(user), user.pk, expiry.timestamp(), now))


def HandshakeAuthStack(inner):
    """Channels' AuthMiddlewareStack with HandshakeAuthMiddleware in its place."""
    return CookieMiddleware(SessionMiddleware(HandshakeAuthMiddleware(inner)))
