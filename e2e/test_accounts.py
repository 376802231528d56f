"""Accounts in a browser: a password changed, a log-out through its confirmation, and a password
reset through the link of a real email (written to a file by this module's own live server)."""

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import override_settings
from django.utils.text import capfirst
from playwright.sync_api import Page, expect

from e2e.browser import PASSWORD, _, sign_up
from e2e.servers import live_server

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture(scope="module")
def outbox(tmp_path_factory) -> Path:
    """The folder where this module's live server writes the emails it sends, a file each."""
    return tmp_path_factory.mktemp("outbox")


@pytest.fixture(scope="module")
def live_server_url(django_db_setup, django_db_blocker, outbox) -> Iterator[str]:
    """Instead of the session's live server: one forked with Django's file-based email backend,
    so that the emails the server process sends can be read here (Django's in-memory outbox
    would stay in that process). Forked before this module's browser, as conftest's is."""
    with contextlib.ExitStack() as stack:
        file_email = override_settings(
            EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend", EMAIL_FILE_PATH=str(outbox)
        )
        with file_email, django_db_blocker.unblock():
            url = stack.enter_context(live_server())
        yield url


def refused_by_the_policy(page: Page) -> list[str]:
    """What the Content-Security-Policy refuses on `page` from now on (Chromium says so on the console)."""
    refusals: list[str] = []
    page.on("console", lambda message: "Content Security Policy" in message.text and refusals.append(message.text))
    return refusals


def log_in(page: Page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label(_("Username")).fill(username)
    page.get_by_label(_("Password")).fill(password)
    page.get_by_role("main").get_by_role("button", name=_("Log in")).click()


def log_out_through_the_confirmation(page: Page) -> None:
    page.goto("/accounts/logout/")
    expect(page.get_by_role("heading", name=_("Log out of Tertulia?"))).to_be_visible()
    page.get_by_role("main").get_by_role("button", name=_("Log out")).click()
    expect(page.get_by_role("heading", name=_("Log in"))).to_be_visible()


def test_a_member_changes_her_password_logs_out_through_the_confirmation_and_logs_in_with_the_new_one(new_page):
    """Ana changes her password on her laptop: her phone is logged out, the laptop is not; she
    logs out through the confirmation page, the old password no longer works and the new one does."""
    laptop = sign_up(new_page(), "ana")
    refusals = refused_by_the_policy(laptop)
    phone = new_page()
    log_in(phone, "ana", PASSWORD)
    expect(phone.get_by_role("heading", name=_("Rooms"), exact=True)).to_be_visible()

    laptop.goto("/accounts/password/change/")
    laptop.get_by_label(_("Old password")).fill(PASSWORD)
    laptop.get_by_label(_("New password")).first.fill(NEW_PASSWORD)
    laptop.get_by_label(_("New password confirmation")).fill(NEW_PASSWORD)
    laptop.get_by_role("button", name=_("Change password")).click()
    expect(laptop.get_by_role("heading", name=_("Password changed"))).to_be_visible()

    phone.reload()
    expect(phone.get_by_role("heading", name=_("Log in"))).to_be_visible()
    laptop.get_by_role("link", name=_("Back to the rooms")).click()
    expect(laptop.get_by_role("heading", name=_("Rooms"), exact=True)).to_be_visible()

    log_out_through_the_confirmation(laptop)
    log_in(laptop, "ana", PASSWORD)
    refused = _(
        "Please enter a correct %(username)s and password. Note that both fields may be case-sensitive.",
        username=_("username"),
    )
    expect(laptop.get_by_role("main")).to_contain_text(refused)
    log_in(laptop, "ana", NEW_PASSWORD)
    expect(laptop.get_by_role("heading", name=_("Rooms"), exact=True)).to_be_visible()
    assert refusals == []


def test_a_member_who_forgot_her_password_sets_a_new_one_through_the_emailed_link(new_page, outbox):
    """Bea gave her email address at sign-up; logged out, she asks for a link from the log-in
    page, opens the one the server emailed her, sets a new password and logs in with it."""
    page = new_page()
    refusals = refused_by_the_policy(page)
    page.goto("/accounts/signup/")
    page.get_by_label(_("Username")).fill("bea")
    page.get_by_label(capfirst(_("email address"))).fill("bea@example.com")
    page.get_by_label(_("Password")).first.fill(PASSWORD)  # "Password*", with crispy's asterisk
    page.get_by_label(_("Password confirmation")).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name=_("Sign up")).click()
    expect(page.get_by_role("heading", name=_("Rooms"), exact=True)).to_be_visible()
    log_out_through_the_confirmation(page)

    page.get_by_role("link", name=_("Forgot your password?")).click()
    page.get_by_label(_("Email")).fill("bea@example.com")
    page.get_by_role("button", name=_("Send me a link")).click()
    expect(page.get_by_role("heading", name=_("Check your email"))).to_be_visible()

    # The server wrote the email before answering: it is there once the page says so.
    (email,) = [path.read_text() for path in outbox.iterdir()]
    assert "To: bea@example.com" in email
    (link,) = re.findall(r"http://localhost:\d+/accounts/password/reset/[\w-]+/[\w-]+/", email)
    page.goto(link)
    expect(page.get_by_role("heading", name=_("Set a new password"))).to_be_visible()
    page.get_by_label(_("New password")).first.fill(NEW_PASSWORD)
    page.get_by_label(_("New password confirmation")).fill(NEW_PASSWORD)
    page.get_by_role("button", name=_("Set password")).click()
    expect(page.get_by_role("heading", name=_("Password set"))).to_be_visible()

    page.get_by_role("main").get_by_role("link", name=_("Log in")).click()
    page.get_by_label(_("Username")).fill("bea")
    page.get_by_label(_("Password")).fill(NEW_PASSWORD)
    page.get_by_role("main").get_by_role("button", name=_("Log in")).click()
    expect(page.get_by_role("heading", name=_("Rooms"), exact=True)).to_be_visible()
    assert refusals == []
