"""Reactions in the browser: one member reacts to another's message, the other sees it live and
named, and a second click takes it back; without JavaScript the same buttons are a plain form."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from e2e.browser import _, enter_room, send, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_reaction_shows_live_with_who_made_it_and_a_second_click_takes_it_back(new_page):
    """Bea writes in Lobby; Ana reacts 👍 from the palette: Bea's page shows "👍 1" at once, ana
    named in its title, highlighted on Ana's page only; Ana clicks her 👍 again and it goes."""
    ana, bea = sign_up(new_page(), "ana"), sign_up(new_page(), "bea")
    enter_room(ana, "Lobby")
    enter_room(bea, "Lobby")
    send(bea, "Who wants coffee?")

    ana_message = ana.get_by_role("log").locator(".message", has_text="Who wants coffee?")
    ana_message.hover()
    ana_message.get_by_role("button", name=_("React with %(emoji)s", emoji="👍")).click()

    bea_message = bea.get_by_role("log").locator(".message", has_text="Who wants coffee?")
    reaction = _("%(emoji)s %(count)s: %(names)s", emoji="👍", count=1, names="ana")
    beas_view = bea_message.get_by_role("button", name=reaction)
    expect(beas_view).to_be_visible()
    expect(beas_view).to_have_attribute("title", reaction)
    expect(beas_view.locator(".reaction-count")).to_have_text("1")
    anas_view = ana_message.get_by_role("button", name=reaction)
    expect(anas_view).to_be_visible()
    colour = "el => getComputedStyle(el).backgroundColor"
    assert anas_view.evaluate(colour) != beas_view.evaluate(colour)  # the reader's own is highlighted

    anas_view.click()
    expect(bea_message.locator(".reaction")).to_have_count(0)
    expect(ana_message.locator(".reaction")).to_have_count(0)


def test_without_javascript_a_reaction_is_a_form_post_back_to_the_message(new_page):
    """With scripts off, the palette's button posts the page's form and comes back to the
    message, now showing the reaction."""
    bea = sign_up(new_page(), "bea")
    enter_room(bea, "Lobby")
    send(bea, "Tea or coffee?")
    ana = sign_up(new_page(java_script_enabled=False), "ana")
    enter_room(ana, "Lobby", live=False)

    message = ana.get_by_role("log").locator(".message", has_text="Tea or coffee?")
    message.hover()
    message.get_by_role("button", name=_("React with %(emoji)s", emoji="🎉")).click()

    assert "#message-" in ana.url
    reaction = _("%(emoji)s %(count)s: %(names)s", emoji="🎉", count=1, names="ana")
    expect(
        ana.get_by_role("log").locator(".message", has_text="Tea or coffee?").get_by_role("button", name=reaction)
    ).to_be_visible()
    expect(bea.get_by_role("log").get_by_role("button", name=reaction)).to_be_visible()


def test_reaction_pills_and_the_palette_pass_axe_in_the_readers_own_bubble_and_anothers(new_page):
    """Ana's own (blue) bubble and Bea's, each with a reaction of Ana's (highlighted) and of Bea's,
    the palette open on hover: axe-core finds nothing serious (contrast, names)."""
    ana, bea = sign_up(new_page(), "ana"), sign_up(new_page(), "bea")
    enter_room(ana, "Lobby")
    enter_room(bea, "Lobby")
    send(ana, "Mine")
    send(bea, "Theirs")
    for text in ("Mine", "Theirs"):
        for page, emoji in ((ana, "🎉"), (bea, "🙏")):
            message = page.get_by_role("log").locator(".message", has_text=text)
            message.hover()
            message.get_by_role("button", name=_("React with %(emoji)s", emoji=emoji)).click()
            expect(message.locator(".reaction")).to_have_count(1 if page is ana else 2)
    hovered = ana.get_by_role("log").locator(".message", has_text="Mine")
    hovered.hover()
    expect(hovered.get_by_role("button", name=_("React with %(emoji)s", emoji="👍"))).to_be_visible()
    violations = Axe().run(ana).response["violations"]
    failing = [violation for violation in violations if violation["impact"] in {"serious", "critical"}]
    assert not failing, [(v["id"], [node["target"] for node in v["nodes"]]) for v in failing]


def test_on_a_touch_screen_each_bubble_offers_one_toggle_that_opens_the_palette(new_page):
    """A phone (touch, no hover): under Ana's message Bea sees one "Add a reaction" toggle, not
    six emojis; tapped, it opens the palette, and a tap on 👍 reacts for both."""
    ana = sign_up(new_page(), "ana")
    bea = sign_up(new_page(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True), "bea")
    enter_room(ana, "Lobby")
    enter_room(bea, "Lobby")
    send(ana, "¿Pizza?")
    message = bea.get_by_role("log").locator(".message", has_text="¿Pizza?")
    thumbs_up = message.get_by_role("button", name=_("React with %(emoji)s", emoji="👍"))
    expect(message.locator("summary", has_text="☺+")).to_be_visible()
    expect(thumbs_up).to_be_hidden()
    message.locator("summary", has_text="☺+").tap()
    thumbs_up.tap()
    for page in (ana, bea):
        pizza = page.get_by_role("log").locator(".message", has_text="¿Pizza?")
        expect(pizza.locator(".reaction")).to_have_text("👍 1")
