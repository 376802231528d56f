"""Editing and deleting in the browser: what another member's open page shows, live."""

import calendar
import re

import pytest
from playwright.sync_api import expect

from e2e.browser import _, enter_room, send, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_edit_and_a_deletion_reach_the_other_members_open_page_live(new_page):
    """Ana edits her message on its edit page: Bea's open page shows the new text marked
    "(edited)" with no reload; Ana deletes it: Bea sees "Message deleted" in its place, with
    Ana's name still on it. Bea sees no "Edit" link on Ana's message."""
    ana, bea = sign_up(new_page(), "ana"), sign_up(new_page(), "bea")
    enter_room(ana, "Lobby")
    enter_room(bea, "Lobby")
    send(ana, "see you at 5")
    bea_message = bea.get_by_role("log").locator(".message", has_text="ana")
    expect(bea_message).to_contain_text("see you at 5")
    expect(bea_message.get_by_role("link", name=_("Edit"))).to_be_hidden()

    ana.get_by_role("log").locator(".message", has_text="see you at 5").get_by_role("link", name=_("Edit")).click()
    expect(ana.get_by_role("heading", name=_("Edit message"))).to_be_visible()
    ana.get_by_role("textbox", name=re.compile(rf"^{re.escape(_('Message'))}\*?$")).fill("see you at 6")
    ana.get_by_role("button", name=_("Save")).click()
    expect(ana.get_by_role("log")).to_contain_text("see you at 6")

    expect(bea_message).to_contain_text("see you at 6")
    expect(bea_message).not_to_contain_text("see you at 5")
    edited = bea_message.get_by_text(_("(edited)"))
    expect(edited).to_be_visible()
    # "Edited Sunday, November 22, 2026, 10:44 AM": a weekday's name, then the rest of the date.
    weekdays = "|".join(_(day) for day in calendar.day_name)  # Python's English names: Django's msgids
    edited_when = re.escape(_("Edited %(when)s", when="WHEN")).replace("WHEN", f"({weekdays}), .+")
    expect(edited).to_have_attribute("title", re.compile(f"^{edited_when}$"))

    ana.get_by_role("log").locator(".message", has_text="see you at 6").get_by_role("link", name=_("Edit")).click()
    ana.get_by_label(_("Yes, delete this message (a “Message deleted” note stays in its place)")).check()
    ana.get_by_role("button", name=_("Delete")).click()

    expect(bea_message).to_contain_text(_("Message deleted"))
    expect(bea_message).not_to_contain_text("see you at 6")
    expect(bea_message.locator(".message-author")).to_have_text("ana")
