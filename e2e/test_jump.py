"""While a reader is scrolled up, "Jump to latest" counts what comes meanwhile: "2 new
messages", on their page alone; back at the newest message it starts again from none."""

import pytest
from playwright.sync_api import expect

from chat.rooms import room_get_or_create
from e2e.browser import _, enter_room, history_add, ngettext, send, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def counted(number: int) -> str:
    """The control's name with `number` messages counted, as the page's language says it."""
    return ngettext("%(counter)s new message", "%(counter)s new messages", number, counter=number) + " ↓"


def test_jump_to_latest_counts_the_messages_that_came_while_scrolled_up(new_page):
    ana, bea = sign_up(new_page(), "ana"), sign_up(new_page(), "bea")
    history_add(room_get_or_create(name="Lobby")[0], "cy", 40, text="history {number}")
    enter_room(ana, "Lobby")
    enter_room(bea, "Lobby")
    log = bea.get_by_role("log")
    expect(log.get_by_text("history 40", exact=True)).to_be_in_viewport()

    counting = bea.locator('#jump-label[data-unseen="0"]')  # the socket heard that Bea scrolled up

    log.get_by_text("history 20", exact=True).scroll_into_view_if_needed()
    expect(bea.get_by_role("link", name=f"{_('Jump to latest')} ↓")).to_be_visible()
    expect(counting).to_be_attached()
    send(ana, "first while bea reads")
    expect(bea.get_by_role("link", name=counted(1))).to_be_visible()
    send(ana, "second while bea reads")
    jump = bea.get_by_role("link", name=counted(2))
    expect(jump).to_be_visible()
    expect(ana.locator("#jump-label")).not_to_contain_text(counted(2))  # Ana's own page counts nothing

    jump.click()
    expect(log.get_by_text("second while bea reads", exact=True)).to_be_in_viewport()
    expect(jump).to_be_hidden()
    expect(bea.locator("#jump-label:not([data-unseen])")).to_be_attached()  # it heard she is back
    send(ana, "third, seen as it comes")
    expect(log.get_by_text("third, seen as it comes", exact=True)).to_be_in_viewport()

    log.get_by_text("history 20", exact=True).scroll_into_view_if_needed()
    expect(bea.get_by_role("link", name=f"{_('New messages below')} ↓")).to_be_visible()
    expect(counting).to_be_attached()
    send(ana, "fourth while bea reads")
    expect(bea.get_by_role("link", name=counted(1))).to_be_visible()
