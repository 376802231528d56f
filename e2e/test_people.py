"""Direct messages, the live sidebar and presence, with three people in separate browsers."""

import re

import pytest
from playwright.sync_api import Page, expect

from e2e.browser import _, enter_room, ngettext, send, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def direct_messages(page: Page):
    return page.get_by_role("list", name=_("Direct messages"))


def test_direct_message_shows_in_both_sidebars_with_a_badge_that_clears_when_opened(new_page):
    """Ana messages Bea from the sidebar; Bea, on the index, sees the conversation appear
    and its unread badge count Ana's messages, then clear when she opens it. Cy sees none."""
    ana, bea, cy = sign_up(new_page(), "ana"), sign_up(new_page(), "bea"), sign_up(new_page(), "cy")
    ana.get_by_label(_("Message someone")).fill("bea")
    ana.get_by_role("button", name=_("Start")).click()
    expect(ana.get_by_role("heading", name="bea", exact=True)).to_be_visible()
    expect(ana.get_by_role("status")).to_have_text(_("Connected"))
    expect(direct_messages(ana).get_by_role("link", name="bea")).to_have_attribute("aria-current", "page")

    conversation = direct_messages(bea).get_by_role("link", name="ana")
    expect(conversation).to_be_visible()  # pushed into Bea's open sidebar
    for text in ("Hi Bea, got a minute?", "It's about Friday"):
        send(ana, text)  # the second once the first is in the log: the same composer twice is one message
    two_unread = ngettext("%(counter)s unread", "%(counter)s unread", 2, counter=2)
    expect(conversation.get_by_label(two_unread)).to_have_text("2")
    expect(conversation).to_have_class(re.compile(r"\bunread\b"))

    conversation.click()
    expect(bea.get_by_role("log")).to_contain_text("It's about Friday")
    expect(direct_messages(bea).get_by_role("link", name="ana")).to_have_attribute("aria-current", "page")
    expect(bea.get_by_label(two_unread)).to_have_count(0)
    expect(direct_messages(ana).get_by_role("link")).to_have_count(1)
    expect(direct_messages(cy).get_by_role("link")).to_have_count(0)
    expect(direct_messages(cy)).to_contain_text(_("No conversations yet: message someone below."))


def test_presence_shows_who_is_online_and_drops_them_when_their_page_closes(new_page):
    """Ana sees Bea online in the room while Bea's page is open, and offline once it closes."""
    ana, bea = sign_up(new_page(), "ana"), sign_up(new_page(), "bea")
    enter_room(ana, "Lobby")
    online = ana.get_by_role("list", name=_("Online now"))
    expect(online.get_by_role("listitem")).to_have_text(["ana"])

    enter_room(bea, "Lobby")
    expect(online.get_by_role("listitem")).to_have_text(["ana", "bea"])
    expect(bea.get_by_role("list", name=_("Online now")).get_by_role("listitem")).to_have_text(["ana", "bea"])

    bea.close()
    expect(online.get_by_role("listitem")).to_have_text(["ana"])
