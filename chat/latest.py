"""What a room's page shows alike to every reader, read (and rendered) once per process, not once
per page view: its latest history and its member list.

Opening a room shows its latest history (selectors.message_history): three queries and the
objects of 50 messages, their authors, reactions and attachments, then each line's bubble
found in chat.bubbles' memo by everything it shows. That was most of the room page's time
(docs/performance.md), and it is the same for every reader of the room in the same language,
time zone and day, until something in it changes. `latest_history` keeps it, keyed by what
may change it:

- a new message moves the room's `last_seq`, an edit or deletion its `last_change_seq` (both
  read with the room for the request);
- a reaction, a message changed or deleted outside chat.edits (the admin, a deleted user's
  cascade), and an author's new display name or username change a *log version* in the shared
  cache (settings.CACHES), the room's or every room's (`log_changed`, from the services and
  chat/signals.py), once committed, so every process sees it;
- the reader's language, time zone and today (its "Today" and times), the room's slug (the
  permalinks) and the page's size.

`latest_members` keeps the member list (selectors.room_members: users with their profiles, and
the count) the same way, keyed by the room's *members version* (`members_changed`: a membership
made, deleted or moved, by whatever path: chat/signals.py) and every room's log version (names).

A version is read before what it keys, so a change committed meanwhile is at worst kept under
the version before it, and read again at the next view. A lost version (the cache evicted or
emptied) is made anew, and a kept page or list is read again after MEMO_SECONDS whatever the
versions say: a change the cache missed (Redis away when it was made, a raw SQL update) shows
within that time. With the cache away, every view reads the database, as before.
"""

import dataclasses
import logging
import threading
import time
import uuid
from collections import OrderedDict

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone, translation

from . import bubbles
from .selectors import LogLine, message_history, room_members
from .shared_cache import CACHE_ERRORS

logger = logging.getLogger(__name__)

MEMO_SIZE = 128  # pages and member lists kept per process, the least recently used forgotten
MEMO_SECONDS = 60.0  # a kept page or list is read again after this long, whatever the versions say
EVERY_ROOM = "all"
_memo: "OrderedDict[tuple, tuple[float, object]]" = OrderedDict()  # a page's lines, a room's members
_lock = threading.Lock()  # views run on several threads


def _version_key(scope) -> str:
    return f"tertulia:log:v1:{scope}"


def _members_key(room_id: int) -> str:
    return f"tertulia:members:v1:{room_id}"


def _bump_on_commit(key: str) -> None:
    def bump():
        try:
            cache.set(key, uuid.uuid4().hex, timeout=None)
        except CACHE_ERRORS as error:
            logger.warning("version %s not changed: cache away (%r)", key, error)

    transaction.on_commit(bump)


def log_changed(room_id: int | None = None) -> None:
    """Once the current transaction commits (now, outside one): the latest page of room `room_id`
    (None: of every room) is read again at its next view, in every process. For what changes a
    line without moving the room's `last_seq` or `last_change_seq`: a reaction, a display name,
    a message saved or deleted outside chat.edits. With the cache away, logged (kept pages
    are read again within MEMO_SECONDS)."""
    _bump_on_commit(_version_key(EVERY_ROOM if room_id is None else room_id))


def members_changed(room_id: int) -> None:
    """Once the current transaction commits (now, outside one): room `room_id`'s member list is
    read again at its next view, in every process. With the cache away, logged."""
    _bump_on_commit(_members_key(room_id))


def _versions(keys: list[str]) -> list[str] | None:
    """The versions under `keys`, each made if missing; None if the cache is away."""
    try:
        found = cache.get_many(keys)
        for key in keys:
            if key not in found:
                cache.add(key, uuid.uuid4().hex, timeout=None)
                found[key] = cache.get(key)
    except CACHE_ERRORS as error:
        logger.info("latest page or members not kept: cache away (%r)", error)
        return None
    return [found[key] for key in keys]


def _kept_or_read(version_keys: list[str], key: tuple, read):
    """What this process keeps under `key` and the versions under `version_keys` (read now),
    if kept less than MEMO_SECONDS ago; else `read()`, kept. `read()` alone with the cache away."""
    versions = _versions(version_keys)
    if versions is None:
        return read()
    key = (*key, *versions)
    with _lock:
        kept = _memo.get(key)
        if kept is not None and time.monotonic() - kept[0] < MEMO_SECONDS:
            _memo.move_to_end(key)
            return kept[1]
    value = read()
    with _lock:
        _memo[key] = (time.monotonic(), value)
        _memo.move_to_end(key)
        while len(_memo) > MEMO_SIZE:
            _memo.popitem(last=False)
    return value


def latest_history(room) -> list[LogLine]:
    """`room`'s latest history, as selectors.message_history(room=room) gives it, each line's
    bubble rendered (`LogLine.html`) in the active language and time zone: from this process's
    memo when nothing it shows changed since it was read (module docstring), else read and
    rendered now and kept. `room` must be read for this request (its `last_seq` and
    `last_change_seq` are the key). The lines may be shared with other views: read them only."""
    variant = (translation.get_language(), timezone.get_current_timezone_name(), timezone.localdate())
    key = ("log", room.pk, room.slug, room.last_seq, room.last_change_seq, *variant, settings.CHAT_HISTORY_LIMIT)
    return _kept_or_read(
        [_version_key(room.pk), _version_key(EVERY_ROOM)],
        key,
        lambda: [dataclasses.replace(line, html=bubbles.line_html(line)) for line in message_history(room=room)],
    )


def latest_members(room) -> tuple[list, int]:
    """selectors.room_members(room): from this process's memo when no membership of `room` was
    made or deleted and no name changed since it was read (the module docstring), else read now
    and kept. The users may be shared with other views: read them only."""
    return _kept_or_read(
        [_members_key(room.pk), _version_key(EVERY_ROOM)], ("members", room.pk), lambda: room_members(room)
    )


def latest_forget() -> None:
    """Forget every kept page (for tests: ids and settings change between them)."""
    _memo.clear()
