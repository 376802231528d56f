"""The composer as people type in it: multi-line messages, Enter to send, nothing typed lost
to the round trip or to a refusal, and a refused message kept until it is sent or discarded."""

import pytest
from playwright.sync_api import Page, expect

from e2e.browser import TIMEOUT_MS, _, enter_room, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def two_in_lobby(new_page) -> tuple[Page, Page]:
    ana, bea = sign_up(new_page(), "ana"), sign_up(new_page(), "bea")
    enter_room(ana, "Lobby")
    enter_room(bea, "Lobby")
    return ana, bea


def bodies(page: Page) -> list[str]:
    """The text of each message in `page`'s log, line breaks kept (textContent, not normalised)."""
    return page.get_by_role("log").locator(".message-body").evaluate_all("bodies => bodies.map(b => b.textContent)")


def test_enter_sends_and_shift_enter_keeps_a_line_break(new_page):
    """Shift+Enter starts a new line, Enter sends: the other member sees both lines in one bubble."""
    ana, bea = two_in_lobby(new_page)
    composer = ana.get_by_label(_("Message"), exact=True)

    composer.press_sequentially("first line")
    composer.press("Shift+Enter")
    composer.press_sequentially("second line")
    composer.press("Enter")

    expect(bea.get_by_role("log").locator(".message")).to_have_count(1)
    assert bodies(bea) == ["first line\nsecond line"]
    expect(composer).to_have_value("")


def test_no_keystroke_is_lost_typing_on_right_after_enter_or_after_a_refusal(new_page):
    """Each message typed at 30 ms a key straight after the previous Enter, one of them blank
    (refused): every character arrives, in order, and the refusal is said under the composer."""
    ana, bea = two_in_lobby(new_page)
    composer = ana.get_by_label(_("Message"), exact=True)
    texts = ["siguiente mensaje", "otro más rápido", "   ", "tras el error", "y el último"]

    for text in texts:
        composer.press_sequentially(text, delay=30)
        composer.press("Enter")

    sent = [text for text in texts if text.strip()]
    expect(bea.get_by_role("log").locator(".message-body")).to_have_text(sent)
    expect(ana.get_by_role("log").locator(".message-body")).to_have_text(sent)
    refusal = _("Not sent: %(error)s", error=_("Type a message before sending."))
    expect(ana.get_by_role("alert")).to_have_text(f"{refusal} {_('Discard')}")
    expect(composer).to_have_value("")
    ana.get_by_role("button", name=_("Discard")).click()
    expect(ana.get_by_role("alert")).to_have_count(0)


def test_a_message_refused_as_too_fast_is_kept_and_try_again_sends_it_once(new_page):
    """Over the limit (5 messages in 5 s), the sixth comes back as a card with its text, seen by
    nobody else; "Try again" (refused again while too soon) sends it once, and the card goes."""
    ana, bea = two_in_lobby(new_page)
    composer = ana.get_by_label(_("Message"), exact=True)
    for number in range(1, 7):
        composer.fill(f"message {number}")
        composer.press("Enter")

    card = ana.get_by_role("alert")
    too_fast = _("You are sending messages too fast: wait a moment, then send again.")
    expect(card).to_contain_text(_("Not sent: %(error)s", error=too_fast))
    expect(card).to_contain_text("message 6")
    expect(bea.get_by_role("log").locator(".message")).to_have_count(5)
    for _attempt in range(20):  # as a person would: try again until the limit lets it through
        card.get_by_role("button", name=_("Try again")).click()
        try:
            expect(card).to_have_count(0, timeout=1_000)
            break
        except AssertionError:
            continue
    expect(bea.get_by_role("log").locator(".message-body")).to_have_text([f"message {n}" for n in range(1, 7)])
    expect(ana.get_by_role("log").locator(".message")).to_have_count(6, timeout=TIMEOUT_MS)


def test_typing_an_at_name_suggests_the_members_it_may_name(new_page):
    """Ana types "hola @b": under the composer, "@bea" (a member) is suggested; the text stays as typed."""
    ana, _bea = two_in_lobby(new_page)
    composer = ana.get_by_label(_("Message"), exact=True)
    composer.press_sequentially("hola @b", delay=30)
    expect(ana.locator("#mention-suggestions")).to_contain_text("@bea")
    expect(composer).to_have_value("hola @b")
