"""The Content-Security-Policy holds in a real browser: nothing on the pages two people chat on
is refused by it (Chromium reports each refusal on the console)."""

import pytest
from playwright.sync_api import Page, expect

from e2e.browser import enter_room, send, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def watched(page: Page, refusals: list[str]) -> Page:
    """`page`, with its CSP refusals (and script errors) added to `refusals`."""
    page.on("console", lambda message: "Content Security Policy" in message.text and refusals.append(message.text))
    page.on("pageerror", lambda error: refusals.append(f"script error: {error}"))
    return page


def test_two_people_chat_with_nothing_refused_by_the_policy(new_page):
    """Sign-up, the room index and the room page, its socket (connect-src 'self' must cover
    same-origin ws:) and a message both ways: no refusal, no script error."""
    refusals: list[str] = []
    ana, bea = watched(new_page(), refusals), watched(new_page(), refusals)
    for page, name in [(ana, "ana"), (bea, "bea")]:
        sign_up(page, name)
        enter_room(page, "Lobby")
    send(ana, "hello under a strict policy")
    expect(bea.get_by_role("log")).to_contain_text("hello under a strict policy")
    send(bea, "and back")
    expect(ana.get_by_role("log")).to_contain_text("and back")
    assert refusals == []
