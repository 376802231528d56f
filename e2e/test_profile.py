"""The profile in a browser: a display name chosen on the profile page is what the others see."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from e2e.browser import _, enter_room, send, sign_up
from e2e.test_accessibility import FAILING_IMPACTS, VIEWPORTS, described

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def save_profile(page: Page, *, display_name: str, time_zone: str) -> None:
    """Through the top bar's account menu, its "Profile" link and the form, as a person would."""
    page.locator(".account-menu > summary").click()
    page.get_by_role("link", name=_("Profile")).click()
    expect(page.get_by_role("heading", name=_("Your profile"))).to_be_visible()
    page.get_by_label(_("Display name")).fill(display_name)
    page.get_by_label(_("Time zone")).fill(time_zone)
    page.get_by_role("button", name=_("Save")).click()
    expect(page.get_by_text(_("Your profile is saved."))).to_be_visible()


def test_a_display_name_set_on_the_profile_page_is_seen_by_another_member_on_a_live_message(new_page):
    """Ana calls herself "Ana María" and picks her zone, which the page then says is in effect;
    Bea, in the same room, sees that name, not "ana", on Ana's message as it arrives, and in the
    members list."""
    ana, bea = sign_up(new_page(), "ana"), sign_up(new_page(), "bea")
    save_profile(ana, display_name="  Ana María ", time_zone="America/Bogota")
    expect(ana.get_by_label(_("Display name"))).to_have_value("Ana María")
    in_effect = _("Times are shown in your time zone, %(zone)s, where it is %(time)s now.")
    # Whatever time it is there now:
    in_effect_now = re.escape(in_effect % {"zone": "America/Bogota", "time": "@@"}).replace("@@", r"\d{1,2}:\d{2}\b.*")
    expect(ana.locator("#time-zone-in-effect")).to_contain_text(re.compile(in_effect_now))

    enter_room(bea, "Sobremesa")
    enter_room(ana, "Sobremesa")
    send(ana, "¡Buenas!")

    arrived = bea.get_by_role("log").locator(".message", has_text="¡Buenas!")
    expect(arrived.locator(".message-author")).to_have_text("Ana María")
    bea.reload()
    bea.get_by_text(f"{_('Members')} (2)").click()
    expect(bea.get_by_role("list", name=_("Members"))).to_contain_text("Ana María")


@pytest.mark.parametrize("viewport", VIEWPORTS.values(), ids=VIEWPORTS.keys())
def test_the_profile_page_with_a_refused_time_zone_has_no_serious_accessibility_violation(new_page, viewport):
    """axe-core (as e2e/test_accessibility.py runs it) on the profile page showing the error
    that refuses a time zone."""
    page = new_page()
    page.set_viewport_size(viewport)
    sign_up(page, "ana")
    page.goto("/accounts/profile/")
    page.get_by_label(_("Time zone")).fill("Mars/Olympus_Mons")
    page.get_by_role("button", name=_("Save")).click()
    refusal = _("“%(value)s” is not a time zone: choose one from the list, such as Europe/Madrid.")
    expect(page.get_by_text(refusal % {"value": "Mars/Olympus_Mons"})).to_be_visible()
    violations = Axe().run(page).response["violations"]
    failing = [violation for violation in violations if violation["impact"] in FAILING_IMPACTS]
    assert not failing, "\n" + described(failing)
