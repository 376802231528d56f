"""Fixtures of the browser tests: Chromium, a live server, and pages in separate contexts, each
browser speaking the suite's language (E2E_LANGUAGE, e2e/browser.py)."""

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Browser, Page

from e2e.browser import LANGUAGE, LOCALES, chromium, open_page
from e2e.servers import live_server


@pytest.fixture(scope="session")
def browser_locale() -> str:
    """The locale of the suite's browsers, E2E_LANGUAGE's ("es" → "es-ES"). Fails every browser
    test if the site does not offer that language, or if its catalogue is missing or older than
    its `.po` (`make translations`): the pages would then be in English, and the suite would
    pass in English while said to run in another language."""
    if LANGUAGE not in LOCALES or LANGUAGE not in dict(settings.LANGUAGES):
        pytest.fail(f"E2E_LANGUAGE={LANGUAGE!r}: the browser tests run in {', '.join(LOCALES)}", pytrace=False)
    source = Path(settings.BASE_DIR) / "locale" / LANGUAGE / "LC_MESSAGES" / "django.po"
    compiled = source.with_suffix(".mo")
    if source.exists() and (not compiled.exists() or compiled.stat().st_mtime < source.stat().st_mtime):
        pytest.fail(f"{compiled} is missing or older than its .po: run `make translations`", pytrace=False)
    return LOCALES[LANGUAGE]


@pytest.fixture(scope="module")
def browser(live_server_url) -> Iterator[Browser]:
    """Chromium for one test module, with Django's async-safety guard off in this process while
    it runs, and only then: Playwright's sync API keeps an event loop running in the test's
    thread, so Django would take the test's own queries (setting up rows, reading what a page
    stored) for queries from async code. Everywhere else the guard stays on, to catch a
    synchronous query in a consumer (site_config/tests/test_async_safety.py). The live server
    is forked first, so it keeps the guard; forked later it would also hold the pipes of
    Playwright's driver open, and stopping Playwright would wait for it forever."""
    with pytest.MonkeyPatch.context() as patch, chromium() as browser:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
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
def new_page(browser, live_server_url, dialogs, browser_locale) -> Iterator[Callable[..., Page]]:
    """`new_page(base_url=None, **context_options)`: a page in a fresh browser context, as a
    separate browser (one per user), on the site at `base_url` (the live server if None),
    e.g. `new_page(java_script_enabled=False)`; its locale the suite's (E2E_LANGUAGE) unless
    `locale` is given. Closed after the test."""
    pages: list[Page] = []

    def new(base_url: str | None = None, **context_options) -> Page:
        context_options.setdefault("locale", browser_locale)
        page = open_page(browser, base_url or live_server_url, dialogs, **context_options)
        pages.append(page)
        return page

    yield new
    for page in pages:
        page.context.close()
