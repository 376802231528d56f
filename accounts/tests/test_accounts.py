import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db


def test_signup_creates_account_logs_in_and_follows_next(client):
    response = client.post(
        "/accounts/signup/?next=/chat/lobby/",
        {"username": "ana", "password1": "correct horse battery", "password2": "correct horse battery"},
    )
    assert response["Location"] == "/chat/lobby/"
    assert get_user_model().objects.filter(username="ana").exists()
    assert client.get("/chat/").status_code == 200


def test_signup_ignores_next_pointing_elsewhere(client):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "ana",
            "password1": "correct horse battery",
            "password2": "correct horse battery",
            "next": "https://evil.example/",
        },
    )
    assert response["Location"] == "/chat/"


def test_signup_with_mismatched_passwords_shows_error(client):
    response = client.post(
        "/accounts/signup/", {"username": "ana", "password1": "correct horse battery", "password2": "nope"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["password2"]
    assert not get_user_model().objects.exists()


def test_login_then_logout_by_post(client, make_user):
    make_user("ana", password="correct horse battery")
    response = client.post("/accounts/login/", {"username": "ana", "password": "correct horse battery"})
    assert response["Location"] == "/chat/"
    assert client.get("/chat/").status_code == 200
    assert client.post("/accounts/logout/")["Location"] == "/accounts/login/"
    assert client.get("/chat/").status_code == 302


def test_signup_and_login_pages_render_with_crispy_bootstrap(client):
    for path in ["/accounts/signup/", "/accounts/login/"]:
        html = client.get(path).content.decode()
        assert 'form-control" required' in html and "<label" in html


def test_log_in_is_locked_after_five_failures_even_with_the_right_password(client, make_user):
    """django-axes: five wrong passwords for one username from one address lock it out."""
    make_user("ana", password="correct horse battery")
    statuses = [client.post("/accounts/login/", {"username": "ana", "password": "wrong"}).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    locked = client.post("/accounts/login/", {"username": "ana", "password": "correct horse battery"})
    assert locked.status_code == 429
    assert "Too many log-in attempts" in locked.content.decode()
    assert client.get("/chat/").status_code == 302
