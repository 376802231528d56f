"""Searching messages in the browser: the sidebar's box, the results, and a hit opened."""

import re

import pytest
from playwright.sync_api import expect

from chat.models import Message
from e2e.browser import _, enter_room, send, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_user_searches_and_opens_a_hit_at_its_message(new_page):
    """Ana writes in a public room and in a private one; Bea finds the public message with
    its words marked (the private one not), and the hit opens the room at that message."""
    ana, bea = sign_up(new_page(), "ana"), sign_up(new_page(), "bea")
    enter_room(ana, "Planning")
    send(ana, "The migration plan is ready for <b>review</b>")
    ana.goto("/chat/")
    ana.get_by_label(_("Room name")).fill("Secrets")
    ana.get_by_label(_("Private: only the people I invite can see it")).check()
    ana.get_by_role("button", name=_("Go to room")).click()
    send(ana, "The migration plan is secret")

    bea.goto("/chat/")
    message_search = bea.get_by_role("search", name=_("Messages"))  # Spanish says "Buscar" for "Find" (a room) too
    message_search.get_by_role("searchbox").fill('"migration plan"')
    message_search.get_by_role("button", name=_("Search"), exact=True).click()

    results = bea.get_by_role("list", name=_("Results"))
    expect(results.get_by_role("listitem")).to_have_count(1)
    expect(results).to_contain_text("The migration plan is ready for <b>review</b>")
    expect(results.locator("mark")).to_have_text(["migration plan"])
    expect(bea.get_by_role("searchbox", name=_("Search messages"))).to_have_value('"migration plan"')

    results.get_by_role("link", name="Planning").click()
    message = Message.objects.get(body__endswith="<b>review</b>")
    expect(bea).to_have_url(re.compile(rf"/chat/planning/m/{message.seq}/$"))
    expect(bea.locator(f"#message-{message.pk}")).to_contain_text("plan is ready for <b>review</b>")
