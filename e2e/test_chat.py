"""Chatting in the browser: live messages, history, escaping, errors, log-in and typing."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.text import capfirst
from playwright.sync_api import expect

from chat.models import Message, Room
from chat.tests.support import add_message
from e2e.browser import _, enter_room, send, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_two_members_chat_live_and_an_outsider_in_another_room_sees_nothing(new_page):
    """Ana and Bea talk in one room, each styled as own/others'; Cy, elsewhere, sees none."""
    ana, bea, cy = sign_up(new_page(), "ana"), sign_up(new_page(), "bea"), sign_up(new_page(), "cy")
    enter_room(ana, "Café año 2026")
    enter_room(bea, "Café año 2026")
    enter_room(cy, "Elsewhere")
    assert ana.url.endswith("/chat/cafe-ano-2026/")
    assert bea.url == ana.url

    send(ana, "Hola, Bea!")
    ana_log, bea_log = ana.get_by_role("log"), bea.get_by_role("log")
    expect(bea_log).to_contain_text("Hola, Bea!")
    expect(ana.get_by_label(_("Message"), exact=True)).to_have_value("")

    send(bea, "¡Hola, Ana! 👋")
    expect(ana_log).to_contain_text("¡Hola, Ana! 👋")

    ana_says = ana_log.locator(".message", has_text="Hola, Bea!")
    bea_sees_ana = bea_log.locator(".message", has_text="Hola, Bea!")
    expect(ana_says).to_have_css("align-self", "flex-end")
    expect(bea_sees_ana).to_have_css("align-self", "flex-start")
    own_colour = ana_says.evaluate("el => getComputedStyle(el).backgroundColor")
    their_colour = bea_sees_ana.evaluate("el => getComputedStyle(el).backgroundColor")
    assert own_colour != their_colour
    expect(bea_log.locator(".message", has_text="¡Hola, Ana!")).to_have_css("align-self", "flex-end")

    expect(cy.get_by_role("log").locator(".message")).to_have_count(0)
    ids = ana_log.locator(".message").evaluate_all("els => els.map(e => e.id)")
    expected = [f"message-{pk}" for pk in Message.objects.order_by("id").values_list("pk", flat=True)]
    assert ids == expected and len(ids) == 2


def test_reload_shows_history_grouped_by_day(new_page):
    """After a reload the log holds the history, under "Yesterday" and "Today" (in the reader's
    language, as Django's humanize says them)."""
    ana = sign_up(new_page(), "ana")
    enter_room(ana, "Lobby")
    room = Room.objects.get(slug="lobby")
    bea = get_user_model().objects.create_user("bea", password="x-secret-x")
    add_message(room, bea, "from yesterday", created_at=timezone.now() - datetime.timedelta(days=1))
    send(ana, "from today")

    ana.reload()

    log = ana.get_by_role("log")
    expect(log.get_by_role("heading")).to_have_text([capfirst(_("yesterday")), capfirst(_("today"))])
    expect(log.locator(".message")).to_have_count(2)
    expect(log.locator(".message").first).to_contain_text("from yesterday")
    expect(log.locator(".message").last).to_contain_text("from today")


def test_markup_in_a_message_is_shown_as_text(new_page, dialogs):
    """An <img onerror> payload arrives as text for both members, and runs nothing."""
    ana, bea = sign_up(new_page(), "ana"), sign_up(new_page(), "bea")
    enter_room(ana, "Lobby")
    enter_room(bea, "Lobby")
    payload = "<img src=x onerror=alert(1)>"

    send(ana, payload)

    for page in (ana, bea):
        log = page.get_by_role("log")
        expect(log.locator(".message-body")).to_have_text([payload])
        expect(log.locator("img")).to_have_count(0)
    bea.reload()
    expect(bea.get_by_role("log").locator(".message-body")).to_have_text([payload])
    expect(bea.get_by_role("log").locator("img")).to_have_count(0)
    assert dialogs == []


def test_rejected_message_shows_an_error_beside_the_composer(new_page):
    """A blank message is answered with an error under the composer, and nothing is posted."""
    ana = sign_up(new_page(), "ana")
    enter_room(ana, "Lobby")

    send(ana, "   ", shown=False)

    refusal = _("Not sent: %(error)s", error=_("Type a message before sending."))
    expect(ana.get_by_role("alert")).to_contain_text(refusal)
    assert not Message.objects.exists()
    send(ana, "now for real")
    ana.get_by_role("button", name=_("Discard")).click()
    expect(ana.get_by_role("alert")).to_have_count(0)


def test_chat_requires_login(new_page):
    """An anonymous visitor is sent to log in, and comes back to the room after."""
    get_user_model().objects.create_user("ana", password="x-secret-x")
    Room.objects.create(name="Lobby", slug="lobby")
    page = new_page()
    page.goto("/chat/lobby/")
    expect(page.get_by_role("heading", name=_("Log in"))).to_be_visible()
    page.get_by_label(_("Username")).fill("ana")
    page.get_by_label(_("Password")).fill("x-secret-x")
    page.get_by_role("button", name=_("Log in")).click()
    expect(page.get_by_role("heading", name="Lobby")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text(_("Connected"))


def test_typing_indicator_appears_for_the_other_member_and_goes_away(new_page):
    """Bea sees "ana is typing…" while Ana types; it is gone a few seconds after she stops."""
    ana, bea = sign_up(new_page(), "ana"), sign_up(new_page(), "bea")
    enter_room(ana, "Lobby")
    enter_room(bea, "Lobby")

    ana.get_by_label(_("Message"), exact=True).press_sequentially("I am wri", delay=50)

    typing = _("%(typist)s is typing…", typist="ana")
    expect(bea.get_by_text(typing)).to_be_visible()
    expect(ana.get_by_text(typing)).to_have_count(0)
    expect(bea.get_by_text(typing)).to_be_hidden(timeout=8000)
