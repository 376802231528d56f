"""Editing and deleting in the browser: what another member's open page shows, live."""

import re

import pytest
from playwright.sync_api import expect

from e2e.browser import enter_room, send, sign_up

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
    expect(bea_message.get_by_role("link", name="Edit")).to_be_hidden()

    ana.get_by_role("log").locator(".message", has_text="see you at 5").get_by_role("link", name="Edit").click()
    expect(ana.get_by_role("heading", name="Edit message")).to_be_visible()
    ana.get_by_role("textbox", name=re.compile(r"^Message\*?$")).fill("see you at 6")
    ana.get_by_role("button", name="Save").click()
    expect(ana.get_by_role("log")).to_contain_text("see you at 6")

    expect(bea_message).to_contain_text("see you at 6")
    expect(bea_message).not_to_contain_text("see you at 5")
    expect(bea_message.get_by_text("(edited)")).to_be_visible()
    expect(bea_message.get_by_text("(edited)")).to_have_attribute("title", re.compile(r"^Edited \w+day, .+"))

    ana.get_by_role("log").locator(".message", has_text="see you at 6").get_by_role("link", name="Edit").click()
    ana.get_by_label("Yes, delete this message").check()
    ana.get_by_role("button", name="Delete").click()

    expect(bea_message).to_contain_text("Message deleted")
    expect(bea_message).not_to_contain_text("see you at 6")
    expect(bea_message.locator(".message-author")).to_have_text("ana")
