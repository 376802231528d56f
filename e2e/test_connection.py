"""The connection tells the truth: with its server gone, a room page says it is reconnecting and
stops showing who is online, and a message sent meanwhile is shown as not sent yet; with the
server back, it says connected again, by itself, and the message goes."""

import pytest
from playwright.sync_api import expect

from e2e.browser import _, enter_room, sign_up
from e2e.servers import free_port, server_env, uvicorn

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_page_whose_server_went_away_says_so_keeps_what_is_sent_and_sends_it_when_back(new_page, tmp_path):
    env = server_env(CHAT_HEARTBEAT_SECONDS="1")  # stale after 2 × 1 + 5 = 7 s without a beat
    port = free_port()
    with uvicorn(port, env, tmp_path / "server-1.log") as (server, url):
        ana = sign_up(new_page(url), "ana")
        enter_room(ana, "Lobby")
        expect(ana.get_by_role("list", name=_("Online now"))).to_contain_text("ana")
        ana.get_by_text(f"{_('Members')} (1)").click()
        own_mark = ana.get_by_role("list", name=_("Members")).locator(".member-online-mark")
        expect(own_mark).to_be_visible()
        server.kill()
        server.wait()
        expect(ana.get_by_text(_("Reconnecting…"))).to_be_visible(timeout=15_000)
        expect(ana.get_by_role("status")).to_have_count(0)  # "Connected" is hidden
        expect(ana.get_by_role("list", name=_("Online now"))).to_be_hidden()
        expect(own_mark).to_be_hidden()  # the members panel's marks go stale with it
        composer = ana.get_by_label(_("Message"), exact=True)
        composer.fill("written while away")
        composer.press("Enter")
        not_connected = _("Not connected: what you send now goes out when the connection is back.")
        expect(ana.get_by_role("status")).to_contain_text(not_connected)
        expect(composer).to_have_value("written while away")
    with uvicorn(port, env, tmp_path / "server-2.log"):
        # htmx's ws extension waits a random delay before each attempt, up to 2 ** min(attempts,
        # 6) s ("full-jitter", hx-ws-2.js): after the server was away for a while, the next
        # attempt may come up to 64 s later (CI once waited more than 40).
        expect(ana.get_by_role("log")).to_contain_text("written while away", timeout=75_000)
        expect(composer).to_have_value("")
        expect(ana.get_by_role("status")).to_have_text(_("Connected"))
        expect(ana.get_by_text(_("Reconnecting…"))).to_be_hidden()
        expect(ana.get_by_role("list", name=_("Online now"))).to_contain_text("ana")
        expect(own_mark).to_be_visible()
