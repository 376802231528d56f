"""Fixtures of the browser tests: Chromium, a live server, and pages in separate contexts."""

import contextlib
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page

from e2e.browser import chromium, open_page
from e2e.servers import live_server


@pytest.fixture(scope="module")
def browser(live_server_url) -> Iterator[Browser]:
    """Chromium for one test module. Module-scoped, not session-scoped: while it runs, Django's
    async-safety guard is off in this process (e2e.browser.chromium), and no other test may
    run so. The live server is forked first: forked later, it would hold the pipes of
    Playwright's driver open, and stopping Playwright would wait for it forever."""
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="session")
def live_server_url(django_db_setup, django_db_blocker) -> Iterator[str]:
    """The base URL of a Tertulia server forked from this process (e2e.servers.live_server),
    shared by the browser tests of the session. Database access is allowed for the fork only:
    the child must have it, the tests that follow not by this."""
    with contextlib.ExitStack() as stack:
        with django_db_blocker.unblock():
            url = stack.enter_context(live_server())
        yield url


@pytest.fixture
def dialogs() -> list[str]:
    """The messages of the dialogs (alert, confirm) that the test's pages opened."""
    return []


@pytest.fixture
def new_page(browser, live_server_url, dialogs) -> Iterator[Callable[..., Page]]:
    """`new_page(base_url=None, **context_options)`: a page in a fresh browser context, as a
    separate browser (one per user), on the site at `base_url` (the live server if None),
    e.g. `new_page(java_script_enabled=False)`. Closed after the test."""
    pages: list[Page] = []

    def new(base_url: str | None = None, **context_options) -> Page:
        page = open_page(browser, base_url or live_server_url, dialogs, **context_options)
        pages.append(page)
        return page

    yield new
    for page in pages:
        page.context.close()
