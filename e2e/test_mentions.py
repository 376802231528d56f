"""Formatting and mentions in the browser: what two members see of a formatted message that
mentions one of them."""

import pytest
from playwright.sync_api import expect

from e2e.browser import _, enter_room, ngettext, send, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_formatted_mention_is_highlighted_badged_and_listed_for_the_one_mentioned(new_page):
    """Ana writes "@bea **bold** <url>" in Lobby while Bea is in Kitchen: both logs show bold and
    a link; Bea's sidebar badges Lobby with a mention; in Lobby the mention is highlighted for
    Bea only; her Mentions page lists the message and leads back to it."""
    ana, bea = sign_up(new_page(), "ana"), sign_up(new_page(), "bea")
    enter_room(bea, "Lobby")
    enter_room(bea, "Kitchen")
    enter_room(ana, "Lobby")

    send(ana, "@bea **bold** and https://example.com/docs", shown=False)

    ana_message = ana.get_by_role("log").locator(".message", has_text="bold")
    expect(ana_message.locator("strong")).to_have_text("bold")
    link = ana_message.get_by_role("link", name="https://example.com/docs")
    expect(link).to_have_attribute("href", "https://example.com/docs")
    expect(link).to_have_attribute("rel", "nofollow noopener noreferrer")
    sidebar = bea.get_by_role("navigation", name=_("Your rooms and conversations"))
    lobby_entry = sidebar.get_by_role("link", name="Lobby")
    one_mention = ngettext("%(counter)s mention", "%(counter)s mentions", 1, counter=1)
    expect(lobby_entry.get_by_label(one_mention, exact=True)).to_be_visible()
    one_unread = ngettext("%(counter)s unread", "%(counter)s unread", 1, counter=1)
    expect(lobby_entry.get_by_label(one_unread, exact=True)).to_be_visible()

    lobby_entry.click()
    bea_message = bea.get_by_role("log").locator(".message", has_text="bold")
    expect(bea_message.locator("strong")).to_have_text("bold")
    mention_colour = "el => getComputedStyle(el).backgroundColor"
    highlighted = bea_message.locator(".mention").evaluate(mention_colour)
    assert highlighted != ana_message.locator(".mention").evaluate(mention_colour)
    assert highlighted not in ("rgba(0, 0, 0, 0)", "transparent")

    bea.get_by_role("link", name=_("Mentions"), exact=True).click()
    expect(bea.get_by_role("heading", name=_("Mentions"))).to_be_visible()
    listed = bea.get_by_role("list", name=_("Messages that mention you")).get_by_role("listitem")
    expect(listed).to_have_count(1)
    expect(listed.locator("strong")).to_have_text("bold")
    listed.get_by_role("link", name=_("In %(title)s", title="Lobby")).click()
    expect(bea.get_by_role("heading", name="Lobby")).to_be_visible()
    assert bea.url.endswith(f"/chat/lobby/m/{bea_message.get_attribute('data-seq')}/")
