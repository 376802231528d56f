"""A socket's access, re-established at every frame rather than granted once.

A socket may use its room while its session still logs its user in and the room still admits
them. Either can end at any moment, from any process: a log-out, a deactivation or password
change, a session that expires or is deleted, a removal from a room. So each socket holds an
`AccessGate` and asks it before acting on every frame:

- cheaply: each user has an *access version* in the shared cache (settings.CACHES), changed by
  signals whenever something that may end their access is saved or deleted (chat/signals.py);
  a gate whose version is still current, and whose session has not reached its expiry, passes
  with one cache read;
- fully otherwise (and at least every RECHECK_SECONDS): the session is loaded again and the
  room's rule applied (`Room.admits`), in one thread hop.

The socket joins its user's group *before* its first check, so that an ending committed after
that check reaches it as an `access.check` event, and one committed before is seen by it. A
version tells when it was last changed (each change is made once its ending is committed): the
first check (`AccessGate.first_check`) takes the session and user its handshake read
(`scope["auth_read_at"]`, site_config.socket_auth) as still current if the version
is older than that read by more than CLOCK_SKEW_SECONDS, and checks fully otherwise.
"""

import logging
import time
import uuid
from importlib import import_module

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.utils import timezone

from .models import Room
from .shared_cache import CACHE_ERRORS, cache_acall, cache_aget, cache_call

logger = logging.getLogger(__name__)
# A full check at least this often, whatever the version says: a session row deleted by raw SQL,
# or a cache entry lost, is noticed within this time.
RECHECK_SECONDS = 300.0
# How far apart two machines' clocks may be (a version set by one, read by another's socket):
# a version this close to a handshake's read of the session does not vouch for that read.
CLOCK_SKEW_SECONDS = 5.0


def _version_key(user_id: int) -> str:
    return f"tertulia:access:v2:{user_id}"  # v2: versions that tell their time (_version_new)


def _version_new() -> str:
    """A new access version: when it was made (Unix time) and a random part, "1764000000.123:9f…"."""
    return f"{time.time():.3f}:{uuid.uuid4().hex}"


def access_version_time(version: str | None) -> float | None:
    """When `version` was made (Unix time), or None (none, or one without its time)."""
    try:
        return float(version.split(":", 1)[0]) if version and ":" in version else None
    except ValueError:
        return None


def access_version_bump(*, user_id: int) -> None:
    """Mark user `user_id`'s access as possibly ended: every gate of theirs re-checks at its next
    frame. Call from synchronous code (signals), once the change is committed. With the cache
    away this is logged, and gates fall back on full checks (they cannot read a version) until
    it is back."""
    try:
        cache.set(_version_key(user_id), _version_new(), timeout=None)
    except CACHE_ERRORS as error:
        logger.warning("access version not bumped, user=%s: cache away (%r)", user_id, error)


async def access_version_read(user_id: int) -> str | None:
    """User `user_id`'s access version; None if never set or the cache is away (both mean: check
    fully)."""
    return await cache_aget(_version_key(user_id))


def access_version_get(user_id: int) -> str | None:
    """access_version_read, from synchronous code."""
    return cache_call(None, "get", _version_key(user_id))


def access_version_ensure(user_id: int) -> None:
    """Give user `user_id` an access version, made now, if they have none (never bumped, or the
    cache lost it): a read of their session made before this call may then vouch for it once the
    version is older than CLOCK_SKEW_SECONDS (site_config.session_reads), since an ending
    committed after that read bumps it, or bumped it already and this keeps that one.
    Synchronous; a cache read, and a write when there is none; nothing with the cache away."""
    if access_version_get(user_id) is None:
        cache_call(False, "add", _version_key(user_id), _version_new(), timeout=None)


async def _version_add(user_id: int, version: str) -> bool:
    return await cache_acall(False, "aadd", _version_key(user_id), version, timeout=None)


class _SessionRequest:
    """What django.contrib.auth.get_user needs of a request: its session."""

    def __init__(self, session):
        self.session = session


def session_expiry(session) -> float:
    """The expiry (Unix time) of the row `session` was loaded from, or 0 if it was not loaded, or
    its engine does not say (site_config.sessions keeps it)."""
    expiry = getattr(session, "expire_date", None)
    return expiry.timestamp() if expiry else 0.0


def session_user_and_expiry(session) -> tuple[int | None, float]:
    """The id of the active user `session` (a socket's session) still logs in, or None (logged out,
    expired, deleted, deactivated, password changed: Django's own get_user decides), and the
    session's expiry as Unix time (0 if unknown). The read is remembered and shared
    (site_config.session_reads), for the socket's reconnect in any process. Synchronous; two
    queries and a cache write, three queries with a session engine that does not keep the expiry
    it loaded."""
    from site_config.session_reads import session_read_renew  # it imports this module

    session, read_at = import_module(settings.SESSION_ENGINE).SessionStore(session.session_key), time.time()
    user = get_user(_SessionRequest(session))
    session_read_renew(session, user, read_at)
    expiry = session_expiry(session)
    if not expiry and user.is_authenticated:
        row = Session.objects.filter(session_key=session.session_key).values_list("expire_date", flat=True).first()
        expiry = row.timestamp() if row else 0.0
    return (user.pk if user.is_authenticated else None), expiry


class AccessGate:
    """Whether one socket, of `scope["user"]` in `scope["session"]`, may still act, optionally
    in `room` (a Room, or None for a socket on no room's page).

    `check()` answers "ok", "session" (the session ended: close 4001) or "room" (the room no
    longer admits the user: close as not found). Async; one cache read when nothing changed.
    `room_admitted`: the socket read the room and admitted the user after joining the user's
    group (so an ending after that read reaches it as `access.check`): the next full check
    need not read the room again (one query), and only that one.
    """

    def __init__(self, scope, room: Room | None = None):
        self.scope = scope
        self.room = room
        self.room_admitted = False
        self.version: str | None = None
        self.valid_until = 0.0  # Unix time: the session's expiry, or the next forced full check

    async def check(self) -> str:
        version = await access_version_read(self.scope["user"].pk)
        if version is not None and version == self.version and time.time() < self.valid_until:
            return "ok"
        return await self.full_check(version)

    async def first_check(self) -> str:
        """The socket's first check, once it has joined its user's group: "ok" with no query when
        the session and user its handshake read (at `scope["auth_read_at"]`, a Unix time) are
        still current: the user's version was made more than CLOCK_SKEW_SECONDS before that read
        (so whatever ended access since would have changed it) and the session, as loaded then,
        has not expired. Else (no version, a newer one, an unknown read time or expiry)
        full_check()."""
        version = await access_version_read(self.scope["user"].pk)
        made, read_at = access_version_time(version), self.scope.get("auth_read_at")
        expiry = session_expiry(self.scope.get("session"))
        now = time.time()
        if made is None or read_at is None or made > read_at - CLOCK_SKEW_SECONDS or expiry <= now:
            return await self.full_check(version)
        if self.room is not None and not self.room_admitted:
            return await self.full_check(version)
        self.room_admitted = False  # as a full check would have used it
        self.version = version
        self.valid_until = min(expiry, read_at + RECHECK_SECONDS)
        return "ok"

    async def full_check(self, version: str | None = None) -> str:
        """Check the session and the room now, and remember the version this check answers for.
        `version` must have been read before the check (so that a later bump is not missed)."""
        if version is None:
            version = await access_version_read(self.scope["user"].pk)
        verdict, expiry = await self._check_now()
        if verdict == "ok":
            if version is None:  # never bumped (or the cache is away): a version to compare with
                version = _version_new()
                if not await _version_add(self.scope["user"].pk, version):
                    version = None  # someone bumped it meanwhile, or the cache is away
            self.version = version
            self.valid_until = min(expiry, time.time() + RECHECK_SECONDS)
        return verdict

    @database_sync_to_async
    def _check_now(self) -> tuple[str, float]:
        user_id, expiry = session_user_and_expiry(self.scope["session"])
        if user_id != self.scope["user"].pk or expiry <= timezone.now().timestamp():
            return "session", 0.0
        if self.room is not None and self.room_admitted:
            self.room_admitted = False
        elif self.room is not None:
            room = Room.objects.filter(pk=self.room.pk).first()
            if room is None or not room.admits(self.scope["user"]):
                return "room", 0.0
        return "ok", expiry
