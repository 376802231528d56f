"""The members panel tells who is online: a mark beside each member with the room open, gone
when they leave it, kept when someone joins (the list is pushed again) and hidden with the rest
of the presence when the connection goes stale (e2e/test_connection.py)."""

import pytest
from playwright.sync_api import expect

from e2e.browser import _, enter_room, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_member_list_marks_who_is_online_live(new_page):
    ana, bea, cy = (sign_up(new_page(), name) for name in ("ana", "bea", "cy"))
    enter_room(ana, "Lobby")
    enter_room(bea, "Lobby")
    ana.get_by_text(f"{_('Members')} (2)").click()
    members = ana.get_by_role("list", name=_("Members"))
    mark = members.locator(".member-online-mark")
    expect(members.get_by_role("listitem").filter(has_text="bea")).to_contain_text(_("online"))
    expect(mark).to_have_count(2)

    bea.close()
    expect(members.get_by_role("listitem").filter(has_text="bea")).not_to_contain_text(_("online"))
    expect(mark).to_have_count(1)

    enter_room(cy, "Lobby")  # a join re-sends the list; the marks come with it
    expect(ana.get_by_text(f"{_('Members')} (3)")).to_be_visible()
    expect(members.get_by_role("listitem").filter(has_text="cy")).to_contain_text(_("online"))
    expect(members.get_by_role("listitem").filter(has_text="ana")).to_contain_text(_("online"))
    expect(mark).to_have_count(2)
