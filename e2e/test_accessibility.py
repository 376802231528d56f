"""axe-core finds no serious or critical accessibility violation on any page, on a desktop and
on a phone.

axe is injected with Playwright's `evaluate` (axe-playwright-python does so): code evaluated
through the browser's debugging protocol is not subject to the page's Content-Security-Policy,
so the pages are checked under their real policy, with no inline script and no bypass."""

from collections.abc import Callable

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from e2e.browser import _, enter_room, send, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
FAILING_IMPACTS = {"serious", "critical"}


def sign_up_page(page: Page, new_page: Callable[..., Page]) -> None:
    page.goto("/accounts/signup/")


def log_in_page(page: Page, new_page: Callable[..., Page]) -> None:
    page.goto("/accounts/login/")


def room_index(page: Page, new_page: Callable[..., Page]) -> None:
    sign_up(page, "ana")
    enter_room(page, "Lobby", live=False)
    page.goto("/chat/")


def room_page(page: Page, new_page: Callable[..., Page]) -> None:
    """Lobby, with a message of the reader's ("mine") and one of Bea's ("theirs"), Members open."""
    bea = sign_up(new_page(), "bea")
    enter_room(bea, "Lobby")
    sign_up(page, "ana")
    enter_room(page, "Lobby")
    send(page, "Hello Bea, how was the trip?")
    send(bea, "Long, but the food was worth it.")
    expect(page.get_by_role("log")).to_contain_text("the food was worth it")
    page.get_by_text(f"{_('Members')} (2)").click()
    expect(page.get_by_role("list", name=_("Members"))).to_be_visible()


def room_settings(page: Page, new_page: Callable[..., Page]) -> None:
    sign_up(page, "ana")
    enter_room(page, "Lobby")
    page.get_by_role("link", name=_("Settings")).click()
    expect(page.get_by_role("heading", name=_("Settings of %(title)s", title="Lobby"))).to_be_visible()


def not_found(page: Page, new_page: Callable[..., Page]) -> None:
    sign_up(page, "ana")
    page.goto("/chat/no-such-room/")
    expect(page.get_by_role("heading", name=_("Nothing here"))).to_be_visible()


def room_with_open_menus(page: Page, new_page: Callable[..., Page]) -> None:
    """Lobby with a refused message's card under the composer, a group of two messages, "Jump to
    latest" not needed, and the account menu open."""
    sign_up(page, "ana")
    enter_room(page, "Lobby")
    send(page, "first of a group")
    send(page, "second of the group")
    send(page, "   ", shown=False)
    refusal = _("Not sent: %(error)s", error=_("Type a message before sending."))
    expect(page.get_by_role("alert")).to_contain_text(refusal)
    page.locator(".account-menu > summary").click()
    expect(page.get_by_role("link", name=_("Profile"))).to_be_visible()


def search_results(page: Page, new_page: Callable[..., Page]) -> None:
    sign_up(page, "ana")
    enter_room(page, "Lobby")
    send(page, "the trip to Lisbon")
    page.goto("/chat/search/?q=Lisbon")


def mentions_page(page: Page, new_page: Callable[..., Page]) -> None:
    sign_up(page, "ana")
    page.goto("/chat/mentions/")


def profile_page(page: Page, new_page: Callable[..., Page]) -> None:
    sign_up(page, "ana")
    page.goto("/accounts/profile/")


PAGES = {
    "room-menus": room_with_open_menus,
    "search": search_results,
    "mentions": mentions_page,
    "profile": profile_page,
    "sign-up": sign_up_page,
    "log-in": log_in_page,
    "room-index": room_index,
    "room": room_page,
    "room-settings": room_settings,
    "not-found": not_found,
}


def described(violations: list[dict]) -> str:
    """One line per violation and element: the rule, its impact, where, and why."""
    return "\n".join(
        f"{violation['id']} ({violation['impact']}) {', '.join(map(str, node['target']))}: "
        f"{node['failureSummary'].replace(chr(10), ' ')}"
        for violation in violations
        for node in violation["nodes"]
    )


@pytest.mark.parametrize("viewport", VIEWPORTS.values(), ids=VIEWPORTS.keys())
@pytest.mark.parametrize("open_page", PAGES.values(), ids=PAGES.keys())
def test_page_has_no_serious_accessibility_violation(new_page, open_page, viewport):
    """axe-core's default rules (WCAG 2.0-2.2 A and AA, and best practices) on the page."""
    page = new_page()
    page.set_viewport_size(viewport)
    # Bootstrap's buttons fade their colours in 0.15 s: axe caught one half-way (a hovered summary
    # at 4.34:1) and judged it. Reduced motion turns transitions off, so axe sees settled colours.
    page.emulate_media(reduced_motion="reduce")
    open_page(page, new_page)
    violations = Axe().run(page).response["violations"]
    failing = [violation for violation in violations if violation["impact"] in FAILING_IMPACTS]
    assert not failing, "\n" + described(failing)


@pytest.mark.parametrize("viewport", VIEWPORTS.values(), ids=VIEWPORTS.keys())
def test_skip_links_come_first_show_on_focus_and_land_on_the_content(new_page, viewport):
    """The first Tab on a page reaches "Skip to content", which shows while focused; on a room's
    page "Skip to the conversation" focuses the log's scroller (so the arrow keys scroll it)."""
    page = new_page()
    page.set_viewport_size(viewport)
    sign_up(page, "ana")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name=_("Skip to content"))
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box["width"] > 40 and box["height"] > 10, box

    enter_room(page, "Lobby")
    skip = page.get_by_role("link", name=_("Skip to the conversation"))
    skip.focus()
    assert skip.bounding_box()["width"] > 40
    page.keyboard.press("Enter")
    expect(page.get_by_role("region", name=_("Conversation"))).to_be_focused()
