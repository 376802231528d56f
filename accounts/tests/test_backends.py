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
