"""A page that loses its socket (a crashed worker, a deploy) reconnects by itself and ends with
every message exactly once, in stored order; what was sent while it was down is kept, once."""

import os

import pytest
from playwright.sync_api import expect

from chat.models import Message
from e2e.browser import _, enter_room, send, sign_up
from e2e.servers import free_port, server_env, uvicorn

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

REDIS_URL = os.environ.get("REDIS_URL", "")


def log_ids(page) -> list[str]:
    return page.get_by_role("log").locator(".message").evaluate_all("els => els.map(e => e.id)")


def stored_ids() -> list[str]:
    return [f"message-{pk}" for pk in Message.objects.order_by("seq").values_list("pk", flat=True)]


@pytest.mark.skipif(not REDIS_URL, reason="two server processes need a shared layer: set REDIS_URL")
def test_page_reconnects_after_its_server_is_killed_and_shows_every_message_once_in_order(new_page, tmp_path):
    """Ana's server is SIGKILLed; Bea keeps posting through the other one; Ana's server comes
    back; Ana's page reconnects alone and has every message exactly once, in order."""
    env = server_env(REDIS_URL=REDIS_URL)
    port_ana, port_bea = free_port(), free_port()
    with uvicorn(port_bea, env, tmp_path / "bea.log") as (_bea_server, bea_url):
        with uvicorn(port_ana, env, tmp_path / "ana-1.log") as (ana_server, ana_url):
            ana, bea = sign_up(new_page(ana_url), "ana"), sign_up(new_page(bea_url), "bea")
            enter_room(ana, "Lobby")
            enter_room(bea, "Lobby")
            send(bea, "before the crash")
            expect(ana.get_by_role("log")).to_contain_text("before the crash")
            ana_server.kill()
            ana_server.wait()
            for text in ["while it was down 1", "while it was down 2", "while it was down 3"]:
                send(bea, text)
        with uvicorn(port_ana, env, tmp_path / "ana-2.log"):
            expect(ana.get_by_role("log")).to_contain_text("while it was down 3", timeout=30_000)
            send(bea, "after the restart")
            expect(ana.get_by_role("log")).to_contain_text("after the restart")
            assert log_ids(ana) == stored_ids()
            assert len(stored_ids()) == 5
            ana.context.close()
            bea.context.close()


def test_message_sent_while_the_socket_is_down_is_stored_and_shown_once(new_page, tmp_path):
    """Sent twice while the server is down (queued by htmx), it is stored once when the page
    reconnects, and shown once."""
    env = server_env()
    port = free_port()
    with uvicorn(port, env, tmp_path / "server-1.log") as (server, url):
        ana = sign_up(new_page(url), "ana")
        enter_room(ana, "Lobby")
        send(ana, "first")
        server.kill()
        server.wait()
        send(ana, "typed while offline", shown=False)
        ana.get_by_role("button", name=_("Send")).click()  # and again: a double click
    with uvicorn(port, env, tmp_path / "server-2.log"):
        log = ana.get_by_role("log")
        expect(log).to_contain_text("typed while offline", timeout=30_000)
        expect(ana.get_by_label(_("Message"), exact=True)).to_have_value("")
        assert list(Message.objects.order_by("seq").values_list("body", flat=True)) == ["first", "typed while offline"]
        assert log_ids(ana) == stored_ids()
        ana.context.close()
