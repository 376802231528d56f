"""A room on a phone (390×844) for someone in eight rooms: the log gets the screen, the rooms
wait behind a "Rooms" menu, and the members open over the log rather than beside the title."""

import pytest
from playwright.sync_api import Page, expect

from accounts.ratelimits import rate_limits_reset
from e2e.browser import _, enter_room, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
ROOMS = ["Lobby", "Books", "Films", "Music", "Travel", "Cooking", "Gardening", "Friday football five-a-side"]


def in_eight_rooms(page: Page) -> Page:
    """`page`, its viewport a phone's, signed up as ana, who went to each of ROOMS through
    "Go to room" on the index; it is left on the last one, connected."""
    rate_limits_reset()  # eight rooms is near the hourly limit: counts live in Redis across runs, and user ids repeat
    page.set_viewport_size(PHONE)
    sign_up(page, "ana")
    for name in ROOMS:
        enter_room(page, name, live=name == ROOMS[-1])
    # Settled: her arrival's push of who is online (which follows "Connected") is in.
    expect(page.locator("#presence .presence-user")).to_have_text(["ana"])
    return page


def test_on_a_phone_the_log_gets_the_screen_and_members_open_over_it(new_page):
    """The log is at least 60% of the screen's height; opening Members neither moves the log
    nor wraps the title onto more lines (at most one more)."""
    page = in_eight_rooms(new_page())
    log = page.get_by_role("log")
    title = page.get_by_role("heading", level=1, name=ROOMS[-1])
    log_box, title_box = log.bounding_box(), title.bounding_box()
    assert log_box["height"] >= 0.6 * PHONE["height"], f"the log is {log_box['height']:.0f} px high"

    page.get_by_text(f"{_('Members')} (1)").click()
    expect(page.get_by_role("list", name=_("Members"))).to_be_visible()
    line = title.evaluate("element => parseFloat(getComputedStyle(element).lineHeight)")
    assert title.bounding_box()["height"] <= title_box["height"] + line
    assert log.bounding_box() == log_box


def test_on_a_phone_the_rooms_are_behind_a_menu_and_a_click_opens_one(new_page):
    """The sidebar's rooms are hidden until the "Rooms" menu is opened; a room in it opens,
    and its page starts with the menu closed again."""
    page = in_eight_rooms(new_page())
    rooms = page.get_by_role("list", name=_("Your rooms"))
    expect(rooms).to_be_hidden()

    page.get_by_text(_("Rooms"), exact=True).click()
    expect(rooms.get_by_role("link")).to_have_count(len(ROOMS))
    rooms.get_by_role("link", name="Books").click()
    expect(page.get_by_role("heading", level=1, name="Books")).to_be_visible()
    expect(rooms).to_be_hidden()
    expect(page.get_by_role("log")).to_be_visible()
