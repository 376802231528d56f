"""A WebSocket handshake's user: Channels' session authentication, taking a remembered read of
the session (site_config.session_reads: this process's, or one shared through the cache) while
it still vouches.

Channels' AuthMiddleware reads the session and then the user (with their profile) at every
handshake: two queries and a thread hop, most of a connect's database work when a page's socket
reconnects or a crowd arrives at once. Here a handshake whose session was read before (at a
handshake, a page view or a socket's full access check, by this process or, through the shared
cache, another) takes that read's user instead, with no query, while site_config.session_reads
says it still vouches; anything else reads as Channels does, and remembers that read in this
process. It does not share it: the page view before it did (or its socket's next full check
will), and a write to the shared cache at each first handshake cost a crowd of them 0.2 ms of
CPU each (the file cache; docs/performance.md, "Session 26").

`scope["auth_read_at"]` (Unix time) says when the session and user the scope carries were read,
for the socket's first access check (chat.access.AccessGate.first_check): before this read, or
the remembered read's time.
"""

import time
from datetime import UTC, datetime

from channels.auth import AuthMiddleware, get_user
from channels.db import database_sync_to_async
from channels.sessions import CookieMiddleware, SessionMiddleware

from .session_reads import session_read_arecall, session_read_remember

# Channels' get_user, on the thread pool rather than its one database thread: while a crowd's
# handshakes arrive (sockets reconnecting after a deploy) they queued there, each waiting on its
# two round trips, with the event loop idle for lack of anything else to do.
_user_read = database_sync_to_async(get_user.func, thread_sensitive=False)


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
        read = await session_read_arecall(key)
        if read is not None:
            scope["user"] = read.user_copy()
            session.expire_date = datetime.fromtimestamp(read.expiry, tz=UTC)
            scope["auth_read_at"] = read.read_at
            return
        scope["auth_read_at"] = now
        # Channels' read (the session, then the user), as the user itself rather than Channels' lazy
        # proxy of it: the proxy's every attribute read was a Python call (2% of a message).
        scope["user"] = await _user_read(scope)
        session_read_remember(session, key, scope["user"], now)


def HandshakeAuthStack(inner):
    """Channels' AuthMiddlewareStack with HandshakeAuthMiddleware in its place."""
    return CookieMiddleware(SessionMiddleware(HandshakeAuthMiddleware(inner)))
