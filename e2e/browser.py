"""The browser harness of every browser test: Debian's Chromium under Playwright's sync API, and
what a user does in it (sign up, enter a room, send a message). The servers they talk to are in
e2e/servers.py; the fixtures that hold both, in e2e/conftest.py."""

import contextlib
from collections.abc import Iterator

from playwright.sync_api import Browser, Page, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"  # Playwright cannot download its own browser here.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-extensions",
]
PASSWORD = "correct horse battery"
TIMEOUT_MS = 10_000  # for every wait of a page: a loaded CI machine is slow, never this slow


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium under Playwright's sync API (which keeps an event loop running in this
    thread: e2e/conftest.py's `browser` fixture lets the test's own queries run meanwhile)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser: Browser, base_url: str, dialogs: list[str], **context_options) -> Page:
    """A page on the site at `base_url` in a fresh browser context: its own cookies, as a
    separate browser (one context per user), made with Playwright's `context_options` (e.g.
    `java_script_enabled=False`). Dialogs it opens are dismissed, their messages appended to
    `dialogs`."""
    context = browser.new_context(base_url=base_url, **context_options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    return page


def sign_up(page: Page, username: str) -> Page:
    """Sign `username` up through the form on `page`'s site; returns `page`, on the room index."""
    page.goto("/accounts/signup/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=False).first.fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Rooms", exact=True)).to_be_visible()
    return page


def enter_room(page: Page, name: str, *, live: bool = True) -> None:
    """Go to the room called `name` from the room index; if `live` (the page runs scripts),
    wait until its socket is connected."""
    page.goto("/chat/")
    page.get_by_label("Room name").fill(name)
    page.get_by_role("button", name="Go to room").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    if live:
        expect(page.get_by_role("status")).to_have_text("Connected")


def send(page: Page, text: str, *, shown: bool = True) -> None:
    """Type `text` in the composer and send it; if `shown`, wait until the sender's own log
    shows it (so that the composer has been reset: a second send is a second message)."""
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_role("button", name="Send").click()
    if shown:
        expect(page.get_by_role("log")).to_contain_text(text)
