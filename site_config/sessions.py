"""The session engine (settings.SESSION_ENGINE): Django's database sessions, read by a statement
written once, remembering the expiry of the row they were loaded from."""

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from .model_rows import ModelRows, rows_read

# Django's read of a live session (db.SessionStore._get_session_from_db: the row of the key, if
# not expired), written once: every socket's handshake whose session this process has not read
# lately, every page view likewise, and every socket's full access check (chat.access, at least
# every RECHECK_SECONDS) read it, and Django building and compiling the same query cost as much
# as its execution (364 against 180 us, measured on PostgreSQL: docs/performance.md). Standard
# SQL, for all three databases; the row becomes a Session as the ORM would make it (model_rows).
_SESSION_ROWS = ModelRows(Session)
_LIVE_SESSION_SQL = f"""
SELECT {_SESSION_ROWS.columns(Session._meta.db_table)} FROM {Session._meta.db_table}
WHERE session_key = %s AND expire_date > %s
"""
# The same, for several keys at once (sessions_load).
_LIVE_SESSIONS_SQL = _LIVE_SESSION_SQL.replace("session_key = %s", "session_key IN ({keys})")


class SessionStore(db.SessionStore):
    """Django's db.SessionStore (the same table, encoding and rules), whose synchronous read is one
    written-out statement, and that keeps `expire_date` (an aware datetime, UTC; None until
    loaded, or when no live row was found) from the row it loads: a socket's access checks
    (chat.access) need the session's expiry, and would otherwise read the same row again for it."""

    expire_date = None

    def _get_session_from_db(self):
        rows = rows_read(_LIVE_SESSION_SQL, [self.session_key, timezone.now()])
        if not rows:
            self._session_key = self.expire_date = None  # as Django's: no live row, so a save makes a new key
            return None
        session = _SESSION_ROWS.make(rows[0])
        self.expire_date = session.expire_date
        return session

    async def _aget_session_from_db(self):
        session = await super()._aget_session_from_db()
        self.expire_date = session.expire_date if session is not None else None
        return session


def sessions_load(stores: list[SessionStore]) -> None:
    """Load each of `stores` (this engine's) as its first read of a value would (`load`: the live
    row of its key, decoded; none found, an empty session whose key is dropped), the rows of the
    unloaded ones read in one statement: a crowd's handshakes read their sessions together
    (site_config.socket_auth). Synchronous (database)."""
    unloaded: dict[str, list[SessionStore]] = {}
    for store in stores:
        if hasattr(store, "_session_cache"):
            continue  # loaded already
        if store.session_key:
            unloaded.setdefault(store.session_key, []).append(store)
        else:
            store._session_cache = {}  # as _get_session: no key, nothing to read
    if not unloaded:
        return
    sql = _LIVE_SESSIONS_SQL.format(keys=", ".join(["%s"] * len(unloaded)))
    rows = {row.session_key: row for row in map(_SESSION_ROWS.make, rows_read(sql, [*unloaded, timezone.now()]))}
    for key, same_key in unloaded.items():
        row = rows.get(key)
        for store in same_key:
            if row is None:
                store._session_key = store.expire_date = None  # as _get_session_from_db's
                store._session_cache = {}
            else:
                store.expire_date = row.expire_date
                store._session_cache = store.decode(row.session_data)
