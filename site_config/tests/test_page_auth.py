"""A page view takes this process's earlier read of its session while the user's access version
is older than that read (site_config.page_auth, site_config.session_reads), and reads again
whenever anything may have changed: a log-out, a deactivation, a password change, a version
made too close to the read, an expired session."""

import re
import time

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from chat.access import _version_key
from chat.memberships import membership_join
from chat.rooms import room_get_or_create
from chat.tests.support import add_message, logged_in
from site_config import session_reads

pytestmark = pytest.mark.django_db


def set_version(user_id: int, made: float) -> None:
    cache.set(_version_key(user_id), f"{made:.3f}:test", timeout=None)


def session_queries(client, path: str = "/chat/") -> tuple[int, list[str]]:
    """The status of `client`'s GET of `path` and the tables its queries read the user from."""
    with CaptureQueriesContext(connection) as captured:
        status = client.get(path).status_code
    sqls = [q["sql"].replace("`", "").replace('"', "") for q in captured]  # quoted by the ORM, not written out
    tables = [t for sql in sqls for t in ("django_session", "auth_user") if re.search(rf"\bFROM {t}\b", sql)]
    return status, tables


def test_a_second_view_reads_neither_the_session_nor_the_user(make_user):
    ana = make_user("ana")
    client = logged_in(ana)
    set_version(ana.pk, time.time() - 60)
    assert session_queries(client) == (200, ["django_session", "auth_user"])
    assert session_queries(client) == (200, [])
    (read,) = session_reads._reads.values()
    assert read.user_id == ana.pk and read.expiry > time.time() + 3600  # the session's own expiry


def test_a_first_view_gives_a_user_without_one_a_version_to_vouch_with(make_user):
    ana = make_user("ana")
    client = logged_in(ana)
    cache.delete(_version_key(ana.pk))
    session_queries(client)
    assert cache.get(_version_key(ana.pk)) is not None
    assert session_queries(client)[1] == ["django_session", "auth_user"]  # made now: not yet older than the skew


@pytest.mark.parametrize("ending", ["log-out", "deactivation", "password", "deletion"])
def test_an_ending_is_seen_by_the_next_view(make_user, django_capture_on_commit_callbacks, ending):
    ana = make_user("ana")
    client = logged_in(ana)
    set_version(ana.pk, time.time() - 60)
    session_queries(client)
    assert session_queries(client) == (200, [])
    with django_capture_on_commit_callbacks(execute=True):
        if ending == "log-out":  # from another device, or the admin
            Session.objects.filter(session_key=client.session.session_key).delete()
        elif ending == "deletion":  # the admin's: the user's sessions stay
            ana.delete()
        elif ending == "deactivation":
            ana.is_active = False
            ana.save()
        else:
            ana.set_password("another secret words")
            ana.save()
    response = client.get("/chat/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_read_is_not_taken_after_the_sessions_expiry(make_user, monkeypatch):
    ana = make_user("ana")
    client = logged_in(ana)
    set_version(ana.pk, time.time() - 60)
    session_queries(client)
    key = client.session.session_key
    session_reads._reads[key] = session_reads._reads[key]._replace(expiry=time.time() - 1)
    assert session_queries(client) == (200, ["django_session", "auth_user"])


def test_a_remembered_read_still_makes_the_response_vary_by_cookie(make_user):
    """A fragment with no CSRF token (the older history htmx loads) varies by the reader's cookie
    whether their session was read or remembered."""
    ana = make_user("ana")
    room = room_get_or_create(name="Lobby")[0]
    membership_join(room=room, user=ana)
    for _ in range(3):
        add_message(room, ana, "hi")
    client = logged_in(ana)
    set_version(ana.pk, time.time() - 60)
    older = reverse("chat:room_older", args=[room.slug]) + "?before=3"
    for session_read in (True, False):  # read, then remembered
        with CaptureQueriesContext(connection) as captured:
            response = client.get(older, HTTP_HX_REQUEST="true")
        sqls = [q["sql"].replace("`", "").replace('"', "") for q in captured]
        assert any(re.search(r"\bFROM django_session\b", sql) for sql in sqls) == session_read
        assert response.status_code == 200 and "Cookie" in response["Vary"]


def test_a_view_in_another_process_takes_the_read_shared_through_the_cache(make_user):
    ana = make_user("ana")
    client = logged_in(ana)
    set_version(ana.pk, time.time() - 60)
    session_queries(client)
    session_reads._reads.clear()  # another worker: nothing of its own remembered
    assert session_queries(client) == (200, [])
    assert client.session.session_key in session_reads._reads  # kept by this one now


def test_a_password_change_checks_the_old_password_of_a_user_from_a_shared_read(make_user):
    """The shared read's user has no password hash (deferred): the form that needs it reads it."""
    ana = make_user("ana", password="correct horse battery")
    client = logged_in(ana)
    set_version(ana.pk, time.time() - 60)
    session_queries(client)
    session_reads._reads.clear()
    form = {"old_password": "correct horse battery", "new_password1": "x7 another phrase", "new_password2": ""}
    form["new_password2"] = form["new_password1"]
    response = client.post(reverse("accounts:password_change"), {**form, "old_password": "wrong guess"})
    assert response.status_code == 200  # refused: the old password was checked against the stored hash
    assert client.post(reverse("accounts:password_change"), form).status_code == 302
    ana.refresh_from_db()
    assert ana.check_password("x7 another phrase")
