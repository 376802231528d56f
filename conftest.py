"""Fixtures shared by the unit, consumer and browser tests. Helpers are in chat/tests/support.py."""

import pytest
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.contrib.auth import get_user_model

from chat import broadcasts
from chat.presence import presence_reset

# Old imports `from conftest import join, ...` keep working; new code imports chat.tests.support.
from chat.tests.support import (  # noqa: F401
    SIDE_FRAGMENTS,
    ChatSocket,
    add_message,
    create_room,
    is_side_fragment,
    join,
    logged_in,
    open_socket,
    session_cookie,
)


def pytest_configure(config):
    """Hash passwords with MD5 in tests: the real hasher (PBKDF2, a million rounds) takes about
    0.3 s a user here. Forked live servers (e2e) inherit these settings; subprocess servers do
    not."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # No heartbeat frames in the middle of what a test reads (chat/tests/test_heartbeat.py
    # checks them); subprocess servers (e2e) keep the real interval, or set their own.
    settings.CHAT_HEARTBEAT_SECONDS = 3600


@pytest.fixture(autouse=True)
def nothing_remembered_from_earlier_tests():
    """Process-wide memory that a test must not inherit: each store's circuit breaker (one test's
    slow Redis must not make the next one skip it), the typing throttle, the display names read,
    the log lines rendered, the latest pages kept and the sessions handshakes read (a test's ids
    may be an earlier test's, its settings others); the shared cache too (the file cache's
    directory, or the Redis database of REDIS_URL): a test's user ids may be an earlier test's or
    run's (SQLite reuses them after a rollback; the test database is made anew), whose access
    versions, made long enough ago, would vouch for this test's remembered reads, and within a
    test's transaction no change bumps them (on_commit).
    After it, its event loops' message store connections (the test database is dropped at the
    end, which open connections would stop)."""
    from django.core.cache import cache

    from accounts.profiles import display_name_forget
    from chat import presence, ratelimits, shared_cache
    from chat.bubbles import lines_forget
    from chat.latest import latest_forget
    from chat.message_store import store_connections_close
    from chat.reactions import bars_forget
    from site_config.session_reads import session_reads_forget

    cache.clear()
    display_name_forget()
    lines_forget()
    bars_forget()
    session_reads_forget()
    latest_forget()

    for breaker in (
        broadcasts.layer_breaker,
        presence.redis_breaker,
        ratelimits.redis_breaker,
        shared_cache.cache_breaker,
    ):
        breaker.reset()
    broadcasts.typing_sent.clear()
    yield
    store_connections_close()


@pytest.fixture
def make_user(db):
    """Create a user: `make_user("ana")`."""

    def make(username: str, password: str = "correct horse battery"):
        return get_user_model().objects.create_user(username=username, password=password)

    return make


@pytest.fixture
def people(make_user):
    """Three users: ana, bea and cy."""
    return make_user("ana"), make_user("bea"), make_user("cy")


@pytest.fixture
async def fresh_in_memory_layer():
    """Start a consumer test with no one present in any room, and empty the in-memory channel
    layer after it: no group or queue (bound to that test's event loop) survives into the next
    one."""
    await presence_reset()
    yield
    layer = get_channel_layer()
    if isinstance(layer, InMemoryChannelLayer):
        await layer.flush()


@pytest.fixture
async def lobby_sockets(make_user, fresh_in_memory_layer):
    """`room, (ana, bea) = await lobby_sockets("ana", "bea")`: the room Lobby, and for each name
    a new user with a socket there, opened as the page does (support.join: synced, nothing
    missed); `ana.user` is the user. The sockets are disconnected after the test."""
    sockets: list[ChatSocket] = []

    async def open_them(*usernames: str):
        room = await create_room("Lobby")
        for username in usernames:
            sockets.append(await join(room.slug, await database_sync_to_async(make_user)(username)))
        return room, sockets[-len(usernames) :]

    yield open_them
    for socket in sockets:
        await socket.disconnect()


@pytest.fixture
def layer_events(monkeypatch) -> list[tuple[str, dict]]:
    """Every `(group, event)` sent through chat.broadcasts (the only door to the channel layer)
    during the test, in order; they are still sent."""
    sent: list[tuple[str, dict]] = []
    send = broadcasts.group_send

    async def recording_group_send(group: str, event: dict) -> bool:
        sent.append((group, event))
        return await send(group, event)

    monkeypatch.setattr(broadcasts, "group_send", recording_group_send)
    return sent
