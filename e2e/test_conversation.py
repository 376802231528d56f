"""The chat without JavaScript: a browser with scripts off reads and sends, and a member with
scripts on sees its message live."""

import pytest
from playwright.sync_api import expect

from e2e.browser import enter_room, send, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_browser_without_javascript_reads_and_sends_and_others_see_it_live(new_page):
    """Bea, scripts off, enters Lobby and sends through the form (a POST); Ana sees it live."""
    ana = sign_up(new_page(), "ana")
    enter_room(ana, "Lobby")

    bea = sign_up(new_page(java_script_enabled=False), "bea")
    enter_room(bea, "Lobby", live=False)
    send(bea, "sin JavaScript")
    assert "sin" not in bea.url and bea.url.endswith("/chat/lobby/")
    expect(ana.get_by_role("log")).to_contain_text("sin JavaScript")
