"""The browser harness of every browser test: Debian's Chromium under Playwright's sync API, the
language its pages are in, and what a user does in it (sign up, enter a room, send a message).
The servers they talk to are in e2e/servers.py; the fixtures that hold both, in e2e/conftest.py.

The browsers speak E2E_LANGUAGE ("en" unless set; "es" runs the suite in Spanish), and a test
finds what it reads or clicks through `_` and `ngettext`: Django's own catalogues (the
project's, Django's and its apps'), so the same test passes in either language."""

import contextlib
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from django.utils import translation
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
LANGUAGE = os.environ.get("E2E_LANGUAGE", "en")
# The browser's locale for each language: its Accept-Language picks the language of the pages.
LOCALES = {"en": "en-US", "es": "es-ES"}


def in_language(language: str, text: str, /, **values: object) -> str:
    """`text`, an msgid of Django's catalogues, as a page in `language` ("es") shows it: translated,
    then its `%(name)s` placeholders filled from `values` (none given: left as they are)."""
    with translation.override(language):
        translated = translation.gettext(text)
    return translated % values if values else translated


def _(text: str, /, **values: object) -> str:
    """`text`, an msgid of Django's catalogues ("Send", "Not sent: %(error)s"), as the browser
    tests' pages (in LANGUAGE) show it, its placeholders filled from `values`."""
    return in_language(LANGUAGE, text, **values)


def ngettext(singular: str, plural: str, number: int, /, **values: object) -> str:
    """The form of `singular`/`plural` (an msgid pair of Django's catalogues) for `number`, as the
    browser tests' pages (in LANGUAGE) show it, its placeholders filled from `values`
    (e.g. `ngettext("%(counter)s unread", "%(counter)s unread", 2, counter=2)`)."""
    with translation.override(LANGUAGE):
        translated = translation.ngettext(singular, plural, number)
    return translated % values if values else translated


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


def sign_up(page: Page, username: str, *, language: str = LANGUAGE) -> Page:
    """Sign `username` up through the form on `page`'s site, whose pages are in `language`;
    returns `page`, on the room index."""
    page.goto("/accounts/signup/")
    page.get_by_label(in_language(language, "Username")).fill(username)
    page.get_by_label(in_language(language, "Password"), exact=False).first.fill(PASSWORD)
    page.get_by_label(in_language(language, "Password confirmation")).fill(PASSWORD)
    page.get_by_role("button", name=in_language(language, "Sign up")).click()
    expect(page.get_by_role("heading", name=in_language(language, "Rooms"), exact=True)).to_be_visible()
    return page


def enter_room(page: Page, name: str, *, live: bool = True, language: str = LANGUAGE) -> None:
    """Go to the room called `name` from the room index (its pages in `language`); if `live`
    (the page runs scripts), wait until its socket is connected."""
    page.goto("/chat/")
    page.get_by_label(in_language(language, "Room name")).fill(name)
    page.get_by_role("button", name=in_language(language, "Go to room")).click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    if live:
        expect(page.get_by_role("status")).to_have_text(in_language(language, "Connected"))


def send(page: Page, text: str, *, shown: bool = True, language: str = LANGUAGE) -> None:
    """Type `text` in the composer (of a page in `language`) and send it; if `shown`, wait until
    the sender's own log shows it (so that the composer has been reset: a second send is a
    second message)."""
    page.get_by_label(in_language(language, "Message"), exact=True).fill(text)
    page.get_by_role("button", name=in_language(language, "Send")).click()
    if shown:
        expect(page.get_by_role("log")).to_contain_text(text)


def history_add(room, username: str, count: int, *, text: str = "message {number}") -> None:
    """A new member `username` of `room` who wrote `count` messages ("message 1", …), stored as
    history (nothing pushed). On a thread of its own: the services send events (async_to_sync),
    and Playwright's event loop runs in the test's thread."""

    # Imported here: e2e/screenshots.py imports this module before it sets Django up.
    from django.contrib.auth import get_user_model

    from chat.memberships import membership_join
    from chat.tests.support import add_message

    def store():
        author = get_user_model().objects.create_user(username, password="x-secret-x")
        membership_join(room=room, user=author)
        for number in range(1, count + 1):
            add_message(room, author, text.format(number=number))

    with ThreadPoolExecutor(1) as pool:
        pool.submit(store).result()
