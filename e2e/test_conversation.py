"""The chat without JavaScript: a browser with scripts off reads and sends, and a member with
scripts on sees its message live."""

import pytest
from playwright.sync_api import expect

from e2e.browser import TIMEOUT_MS, enter_room, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_browser_without_javascript_reads_and_sends_and_others_see_it_live(browser, live_server_url, new_page):
    ana = sign_up(new_page(), "ana")
    enter_room(ana, "Lobby")

    context = browser.new_context(base_url=live_server_url, java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        bea = sign_up(context.new_page(), "bea")
        bea.get_by_label("Room name").fill("Lobby")
        bea.get_by_role("button", name="Go to room").click()
        bea.get_by_label("Message", exact=True).fill("sin JavaScript")
        bea.get_by_role("button", name="Send").click()
        expect(bea.get_by_role("log")).to_contain_text("sin JavaScript")
        assert "sin" not in bea.url and bea.url.endswith("/chat/lobby/")
        expect(ana.get_by_role("log")).to_contain_text("sin JavaScript")
    finally:
        context.close()
