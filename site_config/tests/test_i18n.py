"""Spanish and English: a complete catalogue, every shown string marked, pages in the reader's
language with its own date and time conventions, and the top bar's language switcher."""

import datetime
import os
import re
import shutil
import subprocess
import sys
import uuid

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Profile
from chat.messages import message_create
from chat.rooms import room_get_or_create
from chat.tests.support import logged_in
from site_config.tests.translations import (
    CATALOGUE,
    TEMPLATES,
    catalogue_compile,
    catalogue_entries,
    catalogue_statistics,
    unmarked_text,
)

TEMPLATE_FILES = sorted(path for path in TEMPLATES.rglob("*") if path.suffix in {".html", ".txt"})
# What makemessages reads: the apps, the settings and the templates (not the tests' tools).
SOURCES = ["accounts", "chat", "site_config", "templates", "locale"]
A_FRIDAY = datetime.datetime(2024, 11, 22, 22, 44, tzinfo=datetime.UTC)


@pytest.fixture
def spanish(settings):
    """The Spanish catalogue compiled (as `make translations` does) and loaded afresh; times in UTC."""
    catalogue_compile()
    settings.LOCALE_PATHS = list(django_settings.LOCALE_PATHS)  # Django forgets its catalogues
    settings.TIME_ZONE = "UTC"


def test_the_spanish_catalogue_has_no_untranslated_and_no_fuzzy_entry():
    """msgfmt counts every entry of locale/es translated, and finds each one's placeholders
    (%(name)s, {{ name }}) in its translation."""
    counts = catalogue_statistics()
    assert counts["translated"] > 100
    assert counts["untranslated"] == 0, catalogue_entries(CATALOGUE, only="untranslated")
    assert counts["fuzzy"] == 0, catalogue_entries(CATALOGUE, only="fuzzy")


def test_makemessages_finds_no_string_missing_from_the_spanish_catalogue_and_none_left_over(tmp_path):
    """makemessages, run on a copy of the sources and the catalogue, adds no entry (each would be
    untranslated or fuzzy) and makes none obsolete: the committed catalogue is up to date."""
    for name in SOURCES:
        shutil.copytree(django_settings.BASE_DIR / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(django_settings.BASE_DIR / "manage.py", tmp_path)
    command = [sys.executable, "manage.py", "makemessages", "-l", "es", "--no-location", "--verbosity", "0"]
    subprocess.run(command, cwd=tmp_path, env=os.environ, check=True)

    made = tmp_path / CATALOGUE.relative_to(django_settings.BASE_DIR)
    counts = catalogue_statistics(made)
    assert counts["untranslated"] == 0, "Not in the catalogue:\n" + catalogue_entries(made, only="untranslated")
    assert counts["fuzzy"] == 0, "Not in the catalogue:\n" + catalogue_entries(made, only="fuzzy")
    obsolete = [line for line in made.read_text().splitlines() if line.startswith("#~ msgid")]
    assert not obsolete, "In the catalogue, no longer used:\n" + "\n".join(obsolete)


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=[str(path.relative_to(TEMPLATES)) for path in TEMPLATE_FILES])
def test_a_template_shows_no_text_that_is_not_marked_for_translation(path):
    """Text between tags and visible attributes are in {% translate %} or {% blocktranslate %}."""
    assert unmarked_text(path.read_text(), html=path.suffix == ".html") == []


def test_the_unmarked_text_finder_finds_text_and_attributes_but_not_marked_ones():
    """The crude finder itself: plain text and an aria-label are found; translated text,
    variables, comments, styles, the site's name and symbols are not."""
    source = """{% load i18n %}{# A comment #}<p title="{% translate 'Hi' %}">Hello {{ name }}</p>
    <span aria-label="{{ count }} unread">{{ count }}</span><style>.a { color: red; }</style>
    {% blocktranslate count counter=n %}{{ counter }} room{% plural %}{{ counter }} rooms{% endblocktranslate %}
    <b>{% translate "Send" %} · Tertulia ↓ @</b>"""
    assert sorted(unmarked_text(source)) == ["Hello", "unread"]
    assert unmarked_text("{% autoescape off %}Dear {{ name }},{% endautoescape %}", html=False) == ["Dear  ,"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "language, shown",
    [
        ("es", ["Escribe un mensaje…", ">Enviar<", ">Hoy<", ">Viernes, 22 de noviembre de 2024<", ">22:44<",
                'title="viernes, 22 de noviembre de 2024, 22:44"', 'lang="es"', "Conectando…"]),
        ("en", ["Write a message…", ">Send<", ">Today<", ">Friday, November 22, 2024<", ">10:44 PM<",
                'title="Friday, November 22, 2024, 10:44 PM"', 'lang="en"', "Connecting…"]),
    ],
)  # fmt: skip
def test_a_room_page_speaks_the_browsers_language_with_its_times_and_days(make_user, spanish, language, shown):
    """Ana's browser asks for `language` (Accept-Language): the room's composer, day separators
    ("Hoy", a weekday and date) and message times (24-hour in Spanish, 12-hour in English) follow."""
    ana = make_user("ana")
    room, _created = room_get_or_create(name="Sobremesa", creator=ana)
    old = message_create(room=room, author=ana, body="¿Quién viene el viernes?")
    old.__class__.objects.filter(pk=old.pk).update(created_at=A_FRIDAY)
    message_create(room=room, author=ana, body="Yo")
    room.memberships.get_or_create(user=ana)

    page = logged_in(ana).get(room.get_absolute_url(), HTTP_ACCEPT_LANGUAGE=language).content.decode()

    for text in shown:
        assert text in page
    # A 12-hour time's "PM" as a word: the page's random tokens (CSRF, nonces) may hold the letters.
    assert bool(re.search(r"\bPM\b", page)) == (language == "en")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url, signed_in, texts",
    [
        ("/chat/", True, ["Salas", "Ir a la sala", "Nombre de la sala", "Escribir a alguien"]),
        ("/accounts/login/", False, ["Iniciar sesión", "Nombre de usuario", "¿Olvidaste tu contraseña?"]),
        ("/accounts/signup/", False, ["Crear cuenta", "Contraseña (confirmación)", "¿Ya tienes cuenta?"]),
        ("/accounts/profile/", True, ["Tu perfil", "Nombre visible", "Zona horaria", "Guardar"]),
    ],
)
def test_the_index_and_account_pages_are_in_spanish_for_a_spanish_browser(make_user, spanish, url, signed_in, texts):
    """Accept-Language: es gives each page in Spanish, its switcher offering English."""
    client = logged_in(make_user("ana")) if signed_in else Client()
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    for text in texts:
        assert text in page
    assert 'name="language" value="en" lang="en"' in page and 'value="es" lang="es"' not in page


@pytest.mark.django_db
def test_the_switcher_sets_the_language_of_a_visitor_for_the_pages_that_follow(spanish):
    """A visitor reading English presses "Español": back on the same page, now in Spanish."""
    client = Client()
    assert "Log in" in client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    response = client.post("/i18n/setlang/", {"language": "es", "next": "/accounts/login/"})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert "Iniciar sesión" in client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


@pytest.mark.django_db
def test_the_switcher_saves_a_signed_in_users_choice_to_their_profile(make_user, spanish):
    """Ana switches to Spanish: her profile keeps it, so another browser of hers (no cookie,
    English asked) shows Spanish too; an unknown language changes nothing."""
    ana = make_user("ana")
    logged_in(ana).post("/i18n/setlang/", {"language": "es", "next": "/chat/"})
    assert Profile.objects.get(user=ana).language == "es"
    assert "Salas" in logged_in(ana).get("/chat/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    logged_in(ana).post("/i18n/setlang/", {"language": "xx", "next": "/chat/"})
    assert Profile.objects.get(user=ana).language == "es"


@pytest.mark.django_db
def test_a_message_refused_in_spanish_says_why_in_spanish(make_user, spanish):
    """A blank message posted without JavaScript comes back with the form's error in Spanish."""
    ana = make_user("ana")
    room, _created = room_get_or_create(name="Sobremesa", creator=ana)
    posted = {"message": " ", "key": str(uuid.uuid4())}
    response = logged_in(ana).post(reverse("chat:message_post", args=[room.slug]), posted, HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    assert "Escribe un mensaje antes de enviarlo." in response.content.decode()


def test_message_times_use_each_languages_clock(spanish):
    """The formats modules: 22:44 in Spanish, 10:44 PM in English (site_config/formats)."""
    from django.template import Context, Template
    from django.utils import translation

    template = Template('{{ at|time:"MESSAGE_TIME_FORMAT" }}')
    with timezone.override(datetime.UTC):
        with translation.override("es"):
            assert template.render(Context({"at": A_FRIDAY})) == "22:44"
        with translation.override("en"):
            assert template.render(Context({"at": A_FRIDAY})) == "10:44 PM"
