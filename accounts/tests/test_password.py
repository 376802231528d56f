"""Accounts a team expects: password change and reset by email, a log-out that asks first, and
an optional email address at sign-up."""

import re

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.test import Client

from chat.consumers import CLOSE_NOT_AUTHENTICATED
from chat.tests.support import create_room, join, logged_in

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new passphrase"


def log_in(client: Client, username: str, password: str):
    """Through the log-in form, as a person would (axes needs the request: Client.login has none)."""
    return client.post("/accounts/login/", {"username": username, "password": password})


def make_user_with_email(make_user, username: str, email: str):
    user = make_user(username, password=PASSWORD)
    user.email = email
    user.save()
    return user


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_in_memory_layer")
async def test_changing_the_password_ends_the_other_sessions_and_their_sockets_but_not_this_one(make_user):
    """Ana, logged in on her laptop and her phone (a socket open in Lobby), changes her password
    on the laptop: the phone's socket says it is signed out and closes (4001), the phone's
    session no longer logs in, and the laptop stays logged in."""
    ana = await database_sync_to_async(make_user)("ana")
    room = await create_room("Lobby")
    laptop, phone = Client(), Client()
    on_phone = await join(room.slug, ana, client=phone)
    await database_sync_to_async(laptop.force_login)(ana)

    response = await database_sync_to_async(laptop.post)(
        "/accounts/password/change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response["Location"] == "/accounts/password/change/done/"
    status = await on_phone.receive_from(timeout=1)
    assert 'id="room-status"' in status and "Signed out" in status
    assert await on_phone.receive_output(timeout=1) == {"type": "websocket.close", "code": CLOSE_NOT_AUTHENTICATED}
    done = await database_sync_to_async(laptop.get)(response["Location"])
    assert done.status_code == 200 and "Password changed" in done.content.decode()
    assert (await database_sync_to_async(laptop.get)("/chat/")).status_code == 200
    assert (await database_sync_to_async(phone.get)("/chat/"))["Location"].startswith("/accounts/login/")
    await on_phone.disconnect()


@pytest.mark.django_db
def test_changing_the_password_needs_the_old_one_and_a_log_in(client, make_user):
    ana = make_user("ana", password=PASSWORD)
    assert client.get("/accounts/password/change/")["Location"] == "/accounts/login/?next=/accounts/password/change/"
    client.force_login(ana)
    wrong = client.post(
        "/accounts/password/change/",
        {"old_password": "not it", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert wrong.status_code == 200 and wrong.context["form"].errors["old_password"]
    ana.refresh_from_db()
    assert ana.check_password(PASSWORD)


@pytest.mark.django_db
def test_reset_sends_one_email_whose_link_sets_a_new_password_once_and_ends_every_session(
    client, make_user, mailoutbox
):
    """Ana forgot her password: one email to her address (matched whatever its case), whose link
    leads to a form that sets a new one; her open sessions end, the new password logs her in,
    and the link does not work a second time."""
    make_user_with_email(make_user, "ana", "ana@example.com")
    make_user("bea", password=PASSWORD)  # no address: never sent anything
    elsewhere = Client()
    assert log_in(elsewhere, "ana", PASSWORD)["Location"] == "/chat/"

    response = client.post("/accounts/password/reset/", {"email": "ANA@example.com"})

    assert response["Location"] == "/accounts/password/reset/sent/"
    assert "Check your email" in client.get(response["Location"]).content.decode()
    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.to == ["ana@example.com"]
    assert email.from_email == "Tertulia <noreply@localhost>"
    assert email.subject == "Set a new password for Tertulia"
    assert '"ana"' in email.body
    link = re.search(r"http://testserver(/accounts/password/reset/[\w-]+/[\w-]+/)", email.body).group(1)

    form_page = client.get(link)  # Django moves the token into the session, out of the address
    assert form_page.status_code == 302
    assert "Set a new password" in client.get(form_page["Location"]).content.decode()
    done = client.post(form_page["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done["Location"] == "/accounts/password/reset/complete/"
    assert "Password set" in client.get(done["Location"]).content.decode()

    assert elsewhere.get("/chat/")["Location"].startswith("/accounts/login/")
    assert log_in(Client(), "ana", NEW_PASSWORD)["Location"] == "/chat/"
    assert "This link does not work" in Client().get(link).content.decode()


@pytest.mark.django_db
def test_reset_for_an_unknown_address_answers_the_same_and_sends_nothing(client, make_user, mailoutbox):
    make_user_with_email(make_user, "ana", "ana@example.com")
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert response["Location"] == "/accounts/password/reset/sent/"
    assert mailoutbox == []


@pytest.mark.django_db
def test_get_logout_asks_first_and_logs_no_one_out(client, make_user):
    client.force_login(make_user("ana"))

    response = client.get("/accounts/logout/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Log out of Tertulia?" in html
    assert re.search(r'<form method="post" action="/accounts/logout/">', html)
    assert client.get("/chat/").status_code == 200
    assert client.post("/accounts/logout/")["Location"] == "/accounts/login/"
    assert client.get("/chat/").status_code == 302


@pytest.mark.django_db
def test_get_logout_when_logged_out_goes_to_the_log_in_page(client):
    assert client.get("/accounts/logout/")["Location"] == "/accounts/login/"


@pytest.mark.django_db
def test_signup_with_an_email_address_keeps_it(client):
    response = client.post(
        "/accounts/signup/",
        {"username": "ana", "email": "ana@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response["Location"] == "/chat/"
    assert get_user_model().objects.get(username="ana").email == "ana@example.com"


@pytest.mark.django_db
def test_signup_email_address_is_optional(client):
    html = client.get("/accounts/signup/").content.decode()
    field = re.search(r'<input type="email" name="email"[^>]*>', html).group(0)
    assert "required" not in field
    assert "Only used to send you a link if you forget your password" in html

    response = client.post("/accounts/signup/", {"username": "ana", "password1": PASSWORD, "password2": PASSWORD})

    assert response["Location"] == "/chat/"
    assert get_user_model().objects.get(username="ana").email == ""


@pytest.mark.django_db
def test_signup_with_an_email_address_still_refuses_look_alike_names(client, make_user):
    make_user("alice")
    response = client.post(
        "/accounts/signup/",
        {"username": "aIice", "email": "not-an-address", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert [error.code for error in errors.as_data()["username"]] == ["look_alike"]
    assert errors["email"]
    assert not get_user_model().objects.filter(username="aIice").exists()


@pytest.mark.django_db
def test_log_in_page_links_to_the_password_reset(client):
    html = client.get("/accounts/login/").content.decode()
    assert '<a href="/accounts/password/reset/">Forgot your password?</a>' in html


@pytest.mark.django_db
def test_account_pages_have_no_inline_script_or_style(client, make_user):
    """The Content-Security-Policy refuses inline scripts and style attributes: none on these
    pages, each in the site's look (base.html) with its form laid out by crispy forms."""
    pages = ["/accounts/password/reset/", "/accounts/password/reset/sent/", "/accounts/password/reset/complete/"]
    pages.append("/accounts/password/reset/MQ/not-a-token/")  # a link that does not work
    client_logged_in = logged_in(make_user("ana"))
    logged_in_pages = ["/accounts/password/change/", "/accounts/password/change/done/", "/accounts/logout/"]
    responses = [client.get(page) for page in pages] + [client_logged_in.get(page) for page in logged_in_pages]
    for page, response in zip(pages + logged_in_pages, responses, strict=True):
        html = response.content.decode()
        assert response.status_code == 200, page
        assert 'class="navbar' in html, page
        assert "style=" not in html, page
        assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", html)), page
    for response in (responses[0], responses[len(pages)]):
        assert 'form-control" required' in response.content.decode()
