"""The Content-Security-Policy holds in a real browser: nothing on the pages two people chat on
is refused by it (Chromium reports each refusal on the console)."""

import pytest
from playwright.sync_api import Page, expect

from e2e.base import BrowserTestCase, sign_up

pytestmark = pytest.mark.e2e


class ContentSecurityPolicyTests(BrowserTestCase):
    def watched_user_page(self, refusals: list[str]) -> Page:
        """A new user's page whose CSP refusals (and script errors) are added to `refusals`."""
        page = self.new_user_page()
        page.on("console", lambda message: "Content Security Policy" in message.text and refusals.append(message.text))
        page.on("pageerror", lambda error: refusals.append(f"script error: {error}"))
        return page

    def test_two_people_chat_with_nothing_refused_by_the_policy(self):
        """Sign-up, the room index and the room page, its socket (connect-src 'self' must cover
        same-origin ws:) and a message both ways: no refusal, no script error."""
        refusals: list[str] = []
        ana, bea = self.watched_user_page(refusals), self.watched_user_page(refusals)
        for page, name in [(ana, "ana"), (bea, "bea")]:
            sign_up(page, name)
            self.enter_room(page, "Lobby")
        self.send(ana, "hello under a strict policy")
        expect(bea.get_by_role("log")).to_contain_text("hello under a strict policy")
        self.send(bea, "and back")
        expect(ana.get_by_role("log")).to_contain_text("and back")
        assert refusals == []
