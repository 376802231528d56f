"""Private rooms in the browser: invisible to outsiders, open to the invited."""

import pytest
from playwright.sync_api import expect

from e2e.browser import _, send, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_private_room_is_invisible_to_an_outsider_and_open_to_the_invited(new_page):
    """Ana makes a private room and invites Bea; Cy sees it neither in the index nor at
    its address; Ana and Bea chat in it."""
    ana, bea, cy = sign_up(new_page(), "ana"), sign_up(new_page(), "bea"), sign_up(new_page(), "cy")
    ana.get_by_label(_("Room name")).fill("Plans")
    ana.get_by_label(_("Private: only the people I invite can see it")).check()
    ana.get_by_role("button", name=_("Go to room")).click()
    expect(ana.get_by_role("heading", name="Plans")).to_be_visible()
    ana.get_by_text(f"{_('Members')} (1)").click()
    ana.get_by_label(_("Invite by username")).fill("bea")
    ana.get_by_role("button", name=_("Invite")).click()
    expect(ana.get_by_text(_("%(username)s can now see %(room)s.", username="bea", room="Plans"))).to_be_visible()

    for page in (bea, cy):
        page.goto("/chat/")
    beas_rooms, cys_rooms = (page.get_by_role("list", name=_("Rooms"), exact=True) for page in (bea, cy))
    expect(beas_rooms.get_by_role("link", name="Plans")).to_be_visible()
    expect(cys_rooms).not_to_contain_text("Plans")
    expect(cy.get_by_role("navigation", name=_("Your rooms and conversations"))).not_to_contain_text("Plans")
    response = cy.goto("/chat/plans/")
    assert response.status == 404

    beas_rooms.get_by_role("link", name="Plans").click()
    expect(bea.get_by_role("status")).to_have_text(_("Connected"))
    expect(ana.get_by_role("status")).to_have_text(_("Connected"))
    send(bea, "Just between us")
    expect(ana.get_by_role("log")).to_contain_text("Just between us")
