"""Reading and making profiles: the name others see, and a reader's language and time zone.

`display_name` and `preferences_for` use a profile already loaded with the user
(`select_related("profile")`, or `"author__profile"` from a message) and otherwise ask the
database once. They never keep what they read on the user: a user object that lives long (a
socket's `scope["user"]`) would otherwise show a name or a zone changed since.
`display_name_recent` is for what repeats (each of a socket's messages, presence): it reads a
name at most once a minute per process.
"""

import math
import time

from django.conf import settings

from .models import Profile, time_zone_names

# The user's side of their profile (what select_related("profile") caches on a user): taken once,
# not through get_user_model() at each socket's connect.
_USER_PROFILE = Profile.user.field.remote_field


def profile_for(user) -> Profile:
    """`user`'s profile, made (empty) if they have none yet. One or two queries (three on the
    first call). Raises nothing else: two first calls at once both get the one row."""
    profile, _created = Profile.objects.get_or_create(user=user)
    return profile


def _loaded_profile(user) -> tuple[bool, Profile | None]:
    """`(True, profile or None)` if `user`'s profile (or its absence) is already loaded on it,
    else `(False, None)`."""
    if _USER_PROFILE.is_cached(user):
        return True, _USER_PROFILE.get_cached_value(user)
    return False, None


def profile_loaded(user) -> bool:
    """Whether `user`'s profile (or its absence) was read with them (select_related: the
    authentication backend, accounts.backends), so that reading it costs no query. False for
    anyone signed out."""
    return user.is_authenticated and _loaded_profile(user)[0]


def profile_forget(user) -> None:
    """Drop the profile read with `user`, if any: for a user object that lives long (a socket's),
    whose later reads of a name or zone must see what is saved then, not at log-in. Its display
    name, read just now, is kept as display_name_recent's (as a query now would have read it)."""
    if profile_loaded(user):
        display_name_recent(user)
        _USER_PROFILE.delete_cached_value(user)


def display_name(user) -> str:
    """What to call `user` in bubbles and lists: their display name, else their username. No
    query if the profile was loaded with `user` (select_related), else one."""
    loaded, profile = _loaded_profile(user)
    if loaded:
        name = profile.display_name if profile else ""
    else:
        name = Profile.objects.filter(user_id=user.pk).values_list("display_name", flat=True).first() or ""
    return name or user.get_username()


NAME_SECONDS = 60  # how long a process reuses a display name read by display_name_recent
_recent_names: dict[int, tuple[str, float]] = {}


def display_name_recent(user) -> str:
    """display_name(`user`), read at most once every NAME_SECONDS per process (one query then,
    none until): for what a user does again and again (each message a socket sends is pushed
    with its author's name; presence names them). A rename shows within that time, and at once
    in the process that saved it (display_name_forget). Call from synchronous code."""
    name = display_name_kept(user)
    if name is None:
        name = display_name(user)
        if len(_recent_names) > 10_000:
            _recent_names.clear()  # old entries are worth little: forget them all at once
        _recent_names[user.pk] = (name, time.monotonic())
    return name


def display_name_kept(user) -> str | None:
    """What display_name_recent(`user`) gives without a query, or None when it would read: from
    the event loop, where no query may run."""
    name, read_at = _recent_names.get(user.pk, ("", -math.inf))
    return name if time.monotonic() - read_at <= NAME_SECONDS else None


def display_name_forget(user_id: int | None = None) -> None:
    """Forget user `user_id`'s name read by display_name_recent (their profile was saved), or
    everyone's (None: for tests)."""
    if user_id is None:
        _recent_names.clear()
    else:
        _recent_names.pop(user_id, None)


def preferences_for(user) -> tuple[str, str]:
    """`(language, time zone name)` for `user` (anyone, signed in or not).

    The language is a code of settings.LANGUAGES, or "" when none is saved (or the saved one is
    no longer offered): follow the browser's. The time zone is an IANA name, settings.TIME_ZONE
    when none is saved (or the saved one is unknown to this machine). No query for an anonymous
    user or one whose profile is loaded (select_related("profile")), else one. For the sockets:
    call it from synchronous code (database_sync_to_async)."""
    language, zone = "", ""
    if user.is_authenticated:
        loaded, profile = _loaded_profile(user)
        if loaded:
            language, zone = (profile.language, profile.time_zone) if profile else ("", "")
        else:
            row = Profile.objects.filter(user_id=user.pk).values_list("language", "time_zone").first()
            language, zone = row or ("", "")
    if language not in dict(settings.LANGUAGES):
        language = ""
    if zone not in time_zone_names():
        zone = settings.TIME_ZONE
    return language, zone
