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
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.contrib.auth import SESSION_KEY

from accounts.backends import users_read_together

from .batches import ThreadBatch
from .session_reads import session_read_arecall, session_read_remember
from .sessions import sessions_load


def _users_of(scopes: list[dict]) -> list:
    """Channels' get_user for each of `scopes` (the same rules), their sessions read in one
    statement and then their users in one (site_config.sessions.sessions_load,
    accounts.backends.users_read_together). Synchronous (database)."""
    sessions = [scope["session"] for scope in scopes]
    sessions_load(sessions)
    with users_read_together(session.get(SESSION_KEY) for session in sessions):
        return [get_user.func(scope) for scope in scopes]


# On the thread pool, in batches (site_config.batches): a crowd's handshakes (sockets
# reconnecting after a deploy) read their sessions and users together, in one hop and two
# statements a batch, not one hop and two statements a handshake (docs/performance.md, "Session 27").
_user_read = ThreadBatch(_users_of)


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
