"""The browser tests' old class-based face, kept for tests written against it (e2e/test_csp.py):
new tests are pytest functions using e2e/browser.py and the fixtures of e2e/conftest.py, which
this class only wraps. Remove it once nothing imports it."""

import pytest
from django.test import TransactionTestCase
from playwright.sync_api import Page

from e2e.browser import enter_room, send, sign_up

__all__ = ["BrowserTestCase", "sign_up"]


class BrowserTestCase(TransactionTestCase):
    """`self.new_user_page()`, `self.sign_up(username)`, `self.enter_room(page, name)`,
    `self.send(page, text)`, `self.dialogs` and `self.live_server_url`, from the fixtures."""

    @pytest.fixture(autouse=True)
    def _browser_harness(self, new_page, dialogs, live_server_url):
        self._new_page, self.dialogs, self.live_server_url = new_page, dialogs, live_server_url

    def new_user_page(self) -> Page:
        return self._new_page()

    def sign_up(self, username: str) -> Page:
        return sign_up(self._new_page(), username)

    def enter_room(self, page: Page, name: str) -> None:
        enter_room(page, name)

    def send(self, page: Page, text: str) -> None:
        send(page, text)
