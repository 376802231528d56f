"""The session engine (settings.SESSION_ENGINE): Django's database sessions, remembering the
expiry of the row they were loaded from."""

from django.contrib.sessions.backends import db


class SessionStore(db.SessionStore):
    """Django's db.SessionStore (the same table, encoding and rules) that keeps `expire_date`
    (an aware datetime, UTC; None until loaded, or when no live row was found) from the row it
    loads: a socket's access checks (chat.access) need the session's expiry, and would
    otherwise read the same row again for it."""

    expire_date = None

    def _get_session_from_db(self):
        session = super()._get_session_from_db()
        self.expire_date = session.expire_date if session is not None else None
        return session

    async def _aget_session_from_db(self):
        session = await super()._aget_session_from_db()
        self.expire_date = session.expire_date if session is not None else None
        return session
