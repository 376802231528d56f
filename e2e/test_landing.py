"""Landing where you left off, in Chromium: a room opens at its first unread message, "Jump to
latest" shows while scrolled up and goes there, the tab title counts what is unread elsewhere,
and a rename reaches the tab title and the log's name."""

import pytest
from playwright.sync_api import expect

from chat.models import Membership
from chat.rooms import room_get_or_create
from e2e.browser import _, enter_room, history_add, ngettext, send, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_room_opens_at_the_first_unread_and_jump_to_latest_goes_down(new_page):
    """Bea read 5 of 45 messages: the room opens with the divider in view, not the newest;
    "Jump to latest" shows while scrolled up, says "1 new message" once one comes live (it
    counts them: e2e/test_jump.py), and goes down to it."""
    bea = sign_up(new_page(), "bea")
    enter_room(bea, "Lobby")
    room = room_get_or_create(name="Lobby")[0]
    history_add(room, "ana", 45)
    Membership.objects.filter(room=room, user__username="bea").update(last_read_seq=5)

    bea.goto(room.get_absolute_url())

    log = bea.get_by_role("log")
    expect(log.get_by_role("separator")).to_have_text(_("New messages"))
    expect(log.get_by_role("separator")).to_be_in_viewport()
    expect(log.get_by_text("message 45", exact=True)).not_to_be_in_viewport()
    jump = bea.get_by_role("link", name=f"{_('Jump to latest')} ↓")
    expect(jump).to_be_visible()
    cy = sign_up(new_page(), "cy")
    enter_room(cy, "Lobby")
    send(cy, "live while bea reads")
    expect(log).to_contain_text("live while bea reads")
    one_new = ngettext("%(counter)s new message", "%(counter)s new messages", 1, counter=1)
    jump = bea.get_by_role("link", name=f"{one_new} ↓")
    expect(jump).to_be_visible()
    expect(log.get_by_text("live while bea reads", exact=True)).not_to_be_in_viewport()
    jump.click()
    expect(log.get_by_text("live while bea reads", exact=True)).to_be_in_viewport()
    expect(jump).to_be_hidden()


def test_the_tab_title_counts_unread_elsewhere_and_follows_a_rename(new_page):
    """Bea has Lobby open and is in Café too: Ana's message in Café makes her tab "(1) Lobby ·
    Tertulia"; Ana renames Lobby to Hall: Bea's tab and log are named Hall."""
    ana, bea = sign_up(new_page(), "ana"), sign_up(new_page(), "bea")
    enter_room(bea, "Café")
    enter_room(ana, "Café")
    enter_room(ana, "Lobby")
    enter_room(bea, "Lobby")
    expect(bea).to_have_title("Lobby · Tertulia")

    ana.goto(room_get_or_create(name="Café")[0].get_absolute_url())
    send(ana, "¿café?")
    expect(bea).to_have_title("(1) Lobby · Tertulia")

    ana.goto("/chat/lobby/settings/")
    ana.get_by_label(_("Name")).fill("Hall")
    ana.get_by_role("button", name=_("Save")).click()
    expect(bea.get_by_role("heading", name="Hall", exact=True)).to_be_visible()
    expect(bea).to_have_title("(1) Hall · Tertulia")
    expect(bea.get_by_role("log", name=f"{_('Messages in')} Hall")).to_be_visible()
