"""The authentication backend: Django's ModelBackend, reading a signed-in user with their profile."""

import threading
from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError

from site_config.model_rows import ModelRows, rows_read

from .models import Profile

UserModel = get_user_model()

# The user and their profile, as select_related("profile").get(pk=...) reads them, written once:
# every page view and socket handshake whose session this process has not read lately, and every
# socket's full access check (chat.access, at least every RECHECK_SECONDS), read it, and Django
# building and compiling that query cost 1.5 times its execution (529 against 210 us, measured on
# PostgreSQL: docs/performance.md). Standard SQL, for all three databases. The user's columns,
# then the profile's (all NULL when the LEFT JOIN finds none), made instances by model_rows.
_USER_ROWS, _PROFILE_ROWS = ModelRows(UserModel), ModelRows(Profile)
_USER_SQL = f"""
SELECT {_USER_ROWS.columns("u")}, {_PROFILE_ROWS.columns("p")}
FROM {UserModel._meta.db_table} u LEFT JOIN {Profile._meta.db_table} p ON p.user_id = u.id
WHERE u.id = %s
"""
_USERS_SQL = _USER_SQL.replace("u.id = %s", "u.id IN ({ids})")  # the same, for several (users_read_together)
_USER_PK_AT = _USER_ROWS.fields.index(UserModel._meta.pk)  # the user's primary key's column
_PROFILE_PK_AT = _USER_ROWS.width + _PROFILE_ROWS.fields.index(Profile._meta.pk)  # the profile's primary key's column


def _user_made(row):
    """The user of `row` (_USER_SQL), their profile (None: they have none) cached on them as
    select_related leaves it: `user.profile` then reads nothing."""
    user = _USER_ROWS.make(row[: _USER_ROWS.width])
    profile = None
    if row[_PROFILE_PK_AT] is not None:  # the LEFT JOIN found a row
        profile = _PROFILE_ROWS.make(row[_USER_ROWS.width :])
        Profile.user.field.set_cached_value(profile, user)
    UserModel.profile.related.set_cached_value(user, profile)
    return user


_together = threading.local()  # .rows: {user id: its row or None} while users_read_together's block runs


def _user_id(value):
    """`value` as get(pk=...) takes it ("12" is 12), or None if it is not an id at all."""
    try:
        return UserModel._meta.pk.to_python(value)
    except ValidationError:
        return None


@contextmanager
def users_read_together(user_ids):
    """Within the block, ProfileModelBackend.get_user on this thread answers for the users of
    `user_ids` (ids, as sessions keep them) from one statement made on entering, each call with an
    instance of its own: a crowd's handshakes read their users together (site_config.socket_auth).
    Synchronous (database)."""
    ids = {user_id for user_id in map(_user_id, user_ids) if user_id is not None}
    rows = rows_read(_USERS_SQL.format(ids=", ".join(["%s"] * len(ids))), list(ids)) if ids else []
    _together.rows = dict.fromkeys(ids) | {row[_USER_PK_AT]: row for row in rows}
    try:
        yield
    finally:
        del _together.rows


class ProfileModelBackend(ModelBackend):
    """Django's ModelBackend (the same rules: active users only, passwords checked by Django)
    whose `get_user(user_id)` / `aget_user(user_id)` read the user and their accounts.Profile
    in one query (a statement written once; select_related), or return None.

    Every page and socket reads its user this way and then the profile (language and time zone:
    accounts.profiles.preferences_for; display names), which without the join is a second query
    each. A long-lived socket's user drops the profile it was read with once its variant is
    chosen (chat.variant_choice.socket_variant), so that a name changed later is not shown stale.
    """

    def get_user(self, user_id):
        if (user_id := _user_id(user_id)) is None:
            return None  # not an id at all: no such user
        together = getattr(_together, "rows", {})
        rows = [together[user_id]] if user_id in together else rows_read(_USER_SQL, [user_id])
        if not rows or rows[0] is None:
            return None
        user = _user_made(rows[0])
        return user if self.user_can_authenticate(user) else None

    async def aget_user(self, user_id):
        try:
            user = await UserModel._default_manager.select_related("profile").aget(pk=user_id)
        except UserModel.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
