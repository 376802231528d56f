"""A handshake takes this process's earlier read of its session while the user's access version
is older than that read (site_config.socket_auth), and reads again whenever anything may have
changed: a version made after it or too close to it, an expired session, a read too old."""

import asyncio
import time
from importlib import import_module

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client

from accounts.models import Profile
from accounts.profiles import profile_loaded
from chat.access import _version_key, access_version_bump, session_user_and_expiry
from chat.tests.support import session_cookie
from site_config import session_reads, socket_auth
from site_config.socket_auth import HandshakeAuthStack

pytestmark = pytest.mark.django_db(transaction=True)


class Seen:
    """An inner ASGI app recording each scope's user and read time."""

    def __init__(self):
        self.scopes = []

    async def __call__(self, scope, receive, send):
        self.scopes.append((scope["user"], scope["auth_read_at"]))


@pytest.fixture
def reads(monkeypatch) -> list:
    """Each handshake that read the session and user from the database."""
    counted = []
    real = socket_auth._user_read

    async def get_user(scope):
        counted.append(scope["session"].session_key)
        return await real(scope)

    monkeypatch.setattr(socket_auth, "_user_read", get_user)
    return counted


async def set_version(user_id: int, made: float) -> None:
    await sync_to_async(cache.set)(_version_key(user_id), f"{made:.3f}:test", timeout=None)


async def handshake(app, cookie: bytes) -> None:
    await app({"type": "websocket", "path": "/ws/chat/", "headers": [(b"cookie", cookie)]}, None, None)


@pytest.fixture
def ana_with_cookie(make_user):
    @database_sync_to_async
    def make():
        ana = make_user("ana")
        return ana, session_cookie(ana)

    return make


@database_sync_to_async
def page_view(make_user) -> tuple:
    """Ana (her version a minute old) and the cookie of her session, after one page view."""
    ana = make_user("ana")
    client = Client()
    client.force_login(ana)
    cache.set(_version_key(ana.pk), f"{time.time() - 60:.3f}:test", timeout=None)
    assert client.get("/chat/").status_code == 200
    return ana, f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


async def test_a_second_handshake_takes_the_first_ones_read_when_the_version_is_older(ana_with_cookie, reads):
    ana, cookie = await ana_with_cookie()
    await set_version(ana.pk, time.time() - 60)
    seen = Seen()
    app = HandshakeAuthStack(seen)

    for _ in range(3):
        await handshake(app, cookie)

    assert len(reads) == 1
    (first, first_at), (second, second_at), (third, _) = seen.scopes
    assert first.pk == second.pk == third.pk == ana.pk and second.is_authenticated
    assert type(first) is type(second) is type(ana)  # the user itself, not a lazy proxy of it
    assert first is not second and second is not third  # each socket its own user to change
    assert profile_loaded(second)  # read with the user, as the backend does: no query for it
    assert second_at == first_at  # the read's time, for the first access check


async def test_handshakes_arriving_together_read_their_sessions_and_users_together(make_user, monkeypatch):
    """A crowd's first handshakes read in one batch (site_config.batches): their sessions in
    one statement, then their users; each gets its own user, a forged cookie none."""

    @database_sync_to_async
    def users_and_cookies():
        users = [make_user(name) for name in ("ana", "bea", "cy")]
        return users, [session_cookie(user) for user in users]

    users, cookies = await users_and_cookies()

    async def nothing_remembered(key):  # at once: over Redis, each lookup's answer comes at its own turn
        return None

    monkeypatch.setattr(socket_auth, "session_read_arecall", nothing_remembered)
    loads = []
    real = socket_auth.sessions_load
    monkeypatch.setattr(socket_auth, "sessions_load", lambda stores: loads.append(len(stores)) or real(stores))
    seen = Seen()
    app = HandshakeAuthStack(seen)

    forged = f"{settings.SESSION_COOKIE_NAME}={'x' * 32}".encode()
    await asyncio.gather(*(handshake(app, cookie) for cookie in [*cookies, forged]))

    assert loads == [4]
    assert sorted(user.pk for user, _at in seen.scopes if user.is_authenticated) == sorted(u.pk for u in users)
    assert sum(not user.is_authenticated for user, _at in seen.scopes) == 1


@pytest.mark.parametrize("how", ["bumped after the read", "made too close to the read", "never made"])
async def test_a_handshake_reads_again_when_the_version_does_not_vouch_for_the_read(ana_with_cookie, reads, how):
    ana, cookie = await ana_with_cookie()
    if how == "never made":
        await sync_to_async(cache.delete)(_version_key(ana.pk))
    else:
        await set_version(ana.pk, time.time() - (60 if how == "bumped after the read" else 1))
    seen = Seen()
    app = HandshakeAuthStack(seen)
    await handshake(app, cookie)
    if how == "bumped after the read":
        await sync_to_async(access_version_bump)(user_id=ana.pk)

    await handshake(app, cookie)

    assert len(reads) == 2
    assert seen.scopes[-1][0].pk == ana.pk


async def test_a_handshake_after_its_page_view_takes_the_pages_read(make_user, reads):
    """The page view's read of the session (site_config.page_auth) serves the socket that page opens."""
    ana, cookie = await page_view(make_user)
    seen = Seen()
    await handshake(HandshakeAuthStack(seen), cookie)
    assert reads == [] and seen.scopes[-1][0].pk == ana.pk


async def test_a_read_is_not_taken_after_the_sessions_expiry_or_the_recheck_time(ana_with_cookie, reads, monkeypatch):
    ana, cookie = await ana_with_cookie()
    await set_version(ana.pk, time.time() - 60)
    app = HandshakeAuthStack(Seen())
    await handshake(app, cookie)
    (read,) = session_reads._reads.values()
    assert read.expiry > time.time() + 3600  # the session's own expiry, as loaded

    later = time.time() + session_reads.RECHECK_SECONDS + 1
    monkeypatch.setattr(socket_auth.time, "time", lambda: later)
    await handshake(app, cookie)
    assert len(reads) == 2

    (read,) = session_reads._reads.values()
    session_reads._reads[cookie.decode().split("=", 1)[1]] = read._replace(expiry=later - 1)
    await handshake(app, cookie)
    assert len(reads) == 3


async def test_a_saved_profile_and_a_log_out_are_seen_by_the_next_handshake(ana_with_cookie, reads):
    ana, cookie = await ana_with_cookie()
    await set_version(ana.pk, time.time() - 60)
    seen = Seen()
    app = HandshakeAuthStack(seen)
    await handshake(app, cookie)

    @database_sync_to_async
    def rename():
        profile, _ = Profile.objects.get_or_create(user=ana)
        profile.display_name = "Ana María"
        profile.save()

    await rename()
    await handshake(app, cookie)
    assert len(reads) == 2
    assert seen.scopes[-1][0].profile.display_name == "Ana María"

    key = cookie.decode().split("=", 1)[1]
    await database_sync_to_async(Session.objects.filter(session_key=key).delete)()  # a log-out
    await handshake(app, cookie)
    assert not seen.scopes[-1][0].is_authenticated


async def test_an_anonymous_handshake_is_not_remembered(reads):
    seen = Seen()
    app = HandshakeAuthStack(seen)
    for _ in range(2):
        await handshake(app, b"sessionid=nosuchsessionkeyatall")
    assert len(reads) == 2 and session_reads._reads == {}
    assert not seen.scopes[-1][0].is_authenticated


async def test_a_handshake_in_another_process_takes_the_pages_read_shared_through_the_cache(make_user, reads):
    """The socket a page opens on another worker, or a crowd reconnecting after a deploy."""
    ana, cookie = await page_view(make_user)
    session_reads._reads.clear()  # another process
    seen = Seen()

    await handshake(HandshakeAuthStack(seen), cookie)

    assert reads == []
    ((user, read_at),) = seen.scopes
    assert user.pk == ana.pk and read_at < time.time() - 0.001 and profile_loaded(user)
    assert "password" in user.get_deferred_fields()  # the hash never goes to the cache
    key = cookie.decode().split("=", 1)[1]
    shared = await sync_to_async(cache.get)(session_reads.session_read_shared_key(key))
    assert shared.user_id == ana.pk and ana.password.encode() not in shared.user


async def test_a_handshakes_own_read_is_kept_in_its_process_only(ana_with_cookie, reads):
    ana, cookie = await ana_with_cookie()
    await handshake(HandshakeAuthStack(Seen()), cookie)
    key = cookie.decode().split("=", 1)[1]
    assert len(reads) == 1 and key in session_reads._reads
    assert await sync_to_async(cache.get)(session_reads.session_read_shared_key(key)) is None


async def test_a_log_out_elsewhere_is_seen_by_a_handshake_taking_a_shared_read(make_user, reads):
    ana, cookie = await page_view(make_user)
    app = HandshakeAuthStack(Seen())
    session_reads._reads.clear()
    await sync_to_async(access_version_bump)(user_id=ana.pk)  # what a log-out's signal does

    await handshake(app, cookie)
    assert len(reads) == 1


async def test_a_sockets_full_check_shares_a_fresh_read(ana_with_cookie):
    """A socket's periodic full check keeps its session's shared read current, for its reconnect."""
    ana, cookie = await ana_with_cookie()
    key = cookie.decode().split("=", 1)[1]
    before = time.time()
    session = import_module(settings.SESSION_ENGINE).SessionStore(key)

    user_id, expiry = await database_sync_to_async(session_user_and_expiry)(session)

    shared = await sync_to_async(cache.get)(session_reads.session_read_shared_key(key))
    assert user_id == shared.user_id == ana.pk and shared.read_at >= before and shared.expiry == expiry
