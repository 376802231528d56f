"""Issue #11's hardening of accounts: log-in limits per address, look-alike and reserved
usernames, and sign-ups per address."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.ratelimits import rate_limits_reset

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Counts live in Redis when REDIS_URL is set: start and end every test with none."""
    rate_limits_reset()
    yield
    rate_limits_reset()


def client_from(address: str) -> Client:
    """A browser at `address` (the tests' own 127.0.0.1 is not limited: it is this machine)."""
    return Client(REMOTE_ADDR=address)


def sign_up(client: Client, username: str):
    return client.post("/accounts/signup/", {"username": username, "password1": PASSWORD, "password2": PASSWORD})


def test_failed_log_ins_are_limited_per_address_across_usernames(settings, make_user):
    """Password spraying: one wrong password for each of many usernames from one address.
    Past ACCOUNTS_LOGIN_FAILURE_RATE_LIMITS failures the address may not log in at all, even
    as someone else with the right password; another address still may."""
    settings.ACCOUNTS_LOGIN_FAILURE_RATE_LIMITS = "3/hour"
    for name in ["ana", "bea", "cy", "dan"]:
        make_user(name, password=PASSWORD)
    sprayer = client_from("203.0.113.7")
    statuses = [
        sprayer.post("/accounts/login/", {"username": n, "password": "123456"}).status_code
        for n in ["ana", "bea", "cy"]
    ]
    assert statuses == [200, 200, 200]
    refused = sprayer.post("/accounts/login/", {"username": "dan", "password": PASSWORD})
    assert refused.status_code == 429
    assert "Too many failed log-ins from your address" in refused.content.decode()
    assert (
        client_from("198.51.100.2").post("/accounts/login/", {"username": "dan", "password": PASSWORD}).status_code
        == 302
    )


def test_one_username_is_still_locked_after_five_failures_from_one_address(make_user):
    """django-axes' lock per (username, address) stays as it was, under the address limit."""
    make_user("ana", password=PASSWORD)
    browser = client_from("203.0.113.8")
    statuses = [browser.post("/accounts/login/", {"username": "ana", "password": "x"}).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]


@pytest.mark.parametrize(
    "look_alike",
    [
        "\u0430lice",  # Cyrillic а
        "ALICE",  # case only (Django's own check)
        "aIice",  # capital I for l
        "al\u0456ce",  # Cyrillic і
        "\uff41lice",  # fullwidth ａ (NFKC)
    ],
)
def test_sign_up_refuses_a_username_that_looks_like_an_existing_one(make_user, look_alike):
    make_user("alice")
    response = sign_up(client_from("203.0.113.9"), look_alike)
    assert response.status_code == 200
    [error] = response.context["form"].errors["username"]
    assert "already exists" in error or "looks like" in error
    assert get_user_model().objects.count() == 1


@pytest.mark.parametrize(
    "reserved", ["admin", "Administrator", "root", "support", "tertulia", "everyone", "\u0430dmin"]
)
def test_sign_up_refuses_reserved_usernames(reserved):
    response = sign_up(client_from("203.0.113.10"), reserved)
    assert response.status_code == 200
    assert response.context["form"].errors["username"] == ["This username is reserved: choose another."]
    assert not get_user_model().objects.exists()


def test_sign_up_accepts_names_that_only_share_letters(make_user):
    make_user("alice")
    for name in ["alicia", "malice", "Алиса"]:
        assert sign_up(client_from("203.0.113.11"), name).status_code == 302, name


def test_sign_ups_are_limited_per_address(settings):
    """Past ACCOUNTS_SIGNUP_RATE_LIMITS accounts from one address, the form says so (429) and
    creates nothing; another address may still sign up."""
    settings.ACCOUNTS_SIGNUP_RATE_LIMITS = "5/hour"
    bot = client_from("203.0.113.12")
    assert [sign_up(bot, f"bot{i}").status_code for i in range(5)] == [302] * 5
    refused = sign_up(bot, "bot5")
    assert refused.status_code == 429
    assert refused.context["form"].non_field_errors() == [
        "Too many accounts were made from your address: try again later."
    ]
    assert not get_user_model().objects.filter(username="bot5").exists()
    assert sign_up(client_from("198.51.100.3"), "someone").status_code == 302
