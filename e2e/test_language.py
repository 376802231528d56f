"""Spanish and English in browsers: each reader's browser language, in the same room."""

import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import Page, expect

from chat.rooms import room_get_or_create
from chat.tests.support import add_message
from e2e.browser import PASSWORD, sign_up
from site_config.tests.translations import catalogue_compile

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sign_up_in_spanish(page: Page, username: str) -> Page:
    """Sign `username` up through the form as a Spanish reader sees it; returns `page`, on the
    room index ("Salas")."""
    page.goto("/accounts/signup/")
    page.get_by_label("Nombre de usuario").fill(username)
    page.get_by_label("Contraseña", exact=False).first.fill(PASSWORD)
    page.get_by_label("Contraseña (confirmación)").fill(PASSWORD)
    page.get_by_role("button", name="Crear cuenta").click()
    expect(page.get_by_role("heading", name="Salas", exact=True)).to_be_visible()
    return page


def test_two_readers_of_one_room_each_see_the_composer_and_the_day_in_their_browsers_language(new_page):
    """Ana's browser is set to Spanish (es-ES), Bea's to English (en-US). In the room where Ana
    wrote yesterday and today, Ana's composer says "Escribe un mensaje…", the days "Ayer" and "Hoy",
    and the time is on a 24-hour clock; Bea's say "Write a message…", "Yesterday", "Today" and
    AM/PM. Bea presses "Español" in the
    top bar and her page turns Spanish."""
    catalogue_compile()  # as `make e2e` does, for a bare pytest run
    ana = sign_up_in_spanish(new_page(locale="es-ES"), "ana")
    bea = sign_up(new_page(locale="en-US"), "bea", language="en")
    room, _created = room_get_or_create(name="Sobremesa")
    ana_user = get_user_model().objects.get(username="ana")
    add_message(room, ana_user, "¿Quedamos?", created_at=timezone.now() - datetime.timedelta(days=1))
    add_message(room, ana_user, "¿Quién viene?")

    ana.get_by_label("Nombre de la sala").fill("Sobremesa")
    ana.get_by_role("button", name="Ir a la sala").click()
    bea.get_by_label("Room name").fill("Sobremesa")
    bea.get_by_role("button", name="Go to room").click()

    expect(ana.get_by_label("Mensaje", exact=True)).to_have_attribute("placeholder", "Escribe un mensaje…")
    expect(ana.locator(".day-separator")).to_have_text(["Ayer", "Hoy"])
    expect(ana.locator(".message time").last).to_have_text(re.compile(r"^\d{2}:\d{2}$"))
    expect(ana.get_by_role("button", name="Enviar")).to_be_visible()
    expect(bea.get_by_label("Message", exact=True)).to_have_attribute("placeholder", "Write a message…")
    expect(bea.locator(".day-separator")).to_have_text(["Yesterday", "Today"])
    expect(bea.locator(".message time").last).to_have_text(re.compile(r"^\d{1,2}:\d{2} [AP]M$"))

    bea.get_by_role("button", name="Español").click()
    expect(bea.get_by_label("Mensaje", exact=True)).to_have_attribute("placeholder", "Escribe un mensaje…")
    expect(bea.locator(".day-separator")).to_have_text(["Ayer", "Hoy"])
