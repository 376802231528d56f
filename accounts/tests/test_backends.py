"""The backend's read of a signed-in user (accounts.backends) and the session engine's read of a
session (site_config.sessions): each one written-out statement, giving what Django's ORM would."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.backends import ProfileModelBackend
from accounts.models import Profile
from site_config.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_a_user_and_their_profile_come_in_one_query_as_select_related_reads_them(make_user):
    ana = make_user("ana")
    Profile.objects.create(user=ana, display_name="Ana P.", language="es", time_zone="Europe/Madrid")
    expected = get_user_model().objects.select_related("profile").get(pk=ana.pk)

    with CaptureQueriesContext(connection) as queries:
        user = ProfileModelBackend().get_user(str(ana.pk))  # the session keeps the id as text
        profile = user.profile

    assert len(queries) == 1
    fields = [field.attname for field in get_user_model()._meta.concrete_fields]
    assert [getattr(user, name) for name in fields] == [getattr(expected, name) for name in fields]
    assert (profile.pk, profile.display_name, profile.language, profile.time_zone) == (
        expected.profile.pk,
        "Ana P.",
        "es",
        "Europe/Madrid",
    )
    assert profile.user is user and not user._state.adding and user._state.db == "default"


def test_a_user_without_a_profile_has_none_with_no_further_query(make_user):
    bea = make_user("bea")
    user = ProfileModelBackend().get_user(bea.pk)
    with CaptureQueriesContext(connection) as queries, pytest.raises(Profile.DoesNotExist):
        _ = user.profile
    assert len(queries) == 0


def test_no_user_for_an_inactive_account_an_unknown_id_or_no_id_at_all(make_user):
    cy = make_user("cy")
    cy.is_active = False
    cy.save()
    backend = ProfileModelBackend()
    assert backend.get_user(cy.pk) is None
    assert backend.get_user(cy.pk + 1000) is None
    assert backend.get_user("not-an-id") is None


def test_a_live_session_is_read_with_its_expiry_and_an_expired_one_is_not(make_user):
    store = SessionStore()
    store["answer"] = 42
    store.save()
    live = SessionStore(store.session_key)
    assert live.load() == {"answer": 42}
    assert live.expire_date == Session.objects.get(pk=store.session_key).expire_date

    Session.objects.filter(pk=store.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    expired = SessionStore(store.session_key)
    assert expired.load() == {}
    assert expired.expire_date is None and expired.session_key is None  # as Django's: a save makes a new key


def test_sessions_load_reads_many_in_one_statement_as_each_would_alone(make_user):
    """site_config.sessions.sessions_load: live, expired, unknown, repeated and key-less stores
    end as their own `load` would leave them, from one statement."""
    from site_config.sessions import sessions_load

    keys = []
    for answer in (1, 2):
        store = SessionStore()
        store["answer"] = answer
        store.save()
        keys.append(store.session_key)
    Session.objects.filter(pk=keys[1]).update(expire_date=timezone.now() - timedelta(seconds=1))
    stores = [SessionStore(key) for key in (keys[0], keys[1], "x" * 32, keys[0], None)]

    with CaptureQueriesContext(connection) as queries:
        sessions_load(stores)
        values = [dict(store.items()) for store in stores]

    assert len(queries) == 1
    assert values == [{"answer": 1}, {}, {}, {"answer": 1}, {}]
    assert stores[0].expire_date == Session.objects.get(pk=keys[0]).expire_date and stores[0] is not stores[3]
    assert [store.session_key for store in stores[1:3]] == [None, None]  # as Django's: a save makes a new key
    assert stores[1].expire_date is None


def test_users_read_together_answer_get_user_from_one_statement_each_call_a_copy_of_its_own(make_user):
    from accounts.backends import users_read_together

    ana, bea, cy = make_user("ana"), make_user("bea"), make_user("cy")
    Profile.objects.create(user=ana, display_name="Ana P.")
    cy.is_active = False
    cy.save()
    backend = ProfileModelBackend()
    ids = [str(ana.pk), str(bea.pk), str(cy.pk), str(cy.pk + 1000), "not-an-id", None]

    with CaptureQueriesContext(connection) as queries, users_read_together(ids):
        first, again, other = backend.get_user(str(ana.pk)), backend.get_user(ana.pk), backend.get_user(bea.pk)
        missing = [backend.get_user(cy.pk), backend.get_user(cy.pk + 1000)]
        assert first.profile.display_name == "Ana P." and other.username == "bea"

    assert len(queries) == 1
    assert first == again and first is not again  # each handshake changes its own
    assert missing == [None, None]  # inactive, unknown
    with CaptureQueriesContext(connection) as queries:
        assert backend.get_user(bea.pk).username == "bea"
    assert len(queries) == 1  # outside the block, the backend reads again
