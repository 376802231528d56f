"""The profile: a display name others see, and the reader's own language and time zone."""

import datetime
import re

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone, translation

from accounts.backends import ProfileModelBackend
from accounts.models import Profile
from accounts.profiles import (
    display_name,
    display_name_forget,
    display_name_recent,
    preferences_for,
    profile_for,
    profile_loaded,
)
from chat.memberships import membership_join
from chat.rooms import room_get_or_create
from chat.selectors import message_history, room_members
from chat.tests.support import add_message, logged_in, post_frame
from chat.variant_choice import socket_variant

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def site_language_again():
    """A request that activated a saved language leaves it on this thread (as Django's own
    LocaleMiddleware does): put the site's back after each test."""
    yield
    translation.deactivate()


def save_profile(client, **fields):
    data = {"display_name": "", "language": "", "time_zone": "", **fields}
    return client.post("/accounts/profile/", data)


def test_a_user_without_a_profile_is_called_by_username_and_reads_in_the_sites_zone(make_user, settings):
    settings.TIME_ZONE = "Europe/Madrid"
    ana = make_user("ana")
    assert not Profile.objects.exists()
    assert display_name(ana) == "ana"
    assert preferences_for(ana) == ("", "Europe/Madrid")
    assert preferences_for(AnonymousUser()) == ("", "Europe/Madrid")


def test_preferences_cost_one_query_and_none_once_the_profile_is_loaded(make_user, django_assert_num_queries):
    ana = make_user("ana")
    Profile.objects.create(user=ana, display_name="Ana", language="es", time_zone="America/Bogota")
    fresh = get_user_model().objects.get(pk=ana.pk)
    with django_assert_num_queries(1):
        assert preferences_for(fresh) == ("es", "America/Bogota")
    loaded = get_user_model().objects.select_related("profile").get(pk=ana.pk)
    with django_assert_num_queries(0):
        assert preferences_for(loaded) == ("es", "America/Bogota")
        assert display_name(loaded) == "Ana"


def test_a_saved_zone_this_machine_does_not_know_falls_back_to_the_sites(make_user, settings):
    ana = make_user("ana")
    Profile.objects.create(user=ana, language="xx", time_zone="Mars/Olympus_Mons")  # written around the form
    assert preferences_for(ana) == ("", settings.TIME_ZONE)


def test_the_profile_page_needs_a_log_in(client):
    assert client.get("/accounts/profile/")["Location"] == "/accounts/login/?next=/accounts/profile/"


def test_the_profile_page_names_the_zone_in_effect_and_offers_every_zone(make_user, settings):
    settings.TIME_ZONE = "Europe/Madrid"
    client = logged_in(make_user("ana"))
    page = client.get("/accounts/profile/").content.decode()
    assert "site’s time zone, Europe/Madrid" in page
    assert 'list="time-zones"' in page and '<option value="America/Bogota">' in page
    assert 'href="/accounts/profile/"' in page  # the top bar's link

    save_profile(client, time_zone="America/Bogota")
    page = client.get("/accounts/profile/").content.decode()
    assert "your time zone, America/Bogota" in page
    assert re.search(r'name="time_zone" value="America/Bogota"', page)


def test_saving_strips_the_name_says_so_redirects_and_remembers_the_language_in_a_cookie(make_user, settings):
    ana = make_user("ana")
    client = logged_in(ana)
    response = save_profile(client, display_name="  Ana María  ", language="es", time_zone="america/bogota")
    assert response.status_code == 302 and response["Location"] == "/accounts/profile/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    saved = Profile.objects.get(user=ana)
    assert (saved.display_name, saved.language, saved.time_zone) == ("Ana María", "es", "America/Bogota")
    assert "Your profile is saved." in client.get(response["Location"]).content.decode()

    response = save_profile(client, display_name="Ana María")  # back to the browser's language
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == ""  # deleted
    assert display_name(ana) == "Ana María"


@pytest.mark.parametrize(
    "fields, field, error",
    [
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", "“Mars/Olympus_Mons” is not a time zone"),
        ({"time_zone": "localtime"}, "time_zone", "is not a time zone"),
        ({"display_name": "x" * 51}, "display_name", "at most 50 characters"),
        ({"language": "fr"}, "language", "Select a valid choice"),
    ],
)
def test_an_invalid_profile_is_refused_with_the_fields_error_and_nothing_saved(make_user, fields, field, error):
    ana = make_user("ana")
    response = save_profile(logged_in(ana), **fields)
    assert response.status_code == 200
    assert error in " ".join(response.context["form"].errors[field])
    assert error in response.content.decode() and "the site’s time zone" in response.content.decode()
    assert Profile.objects.get(user=ana).time_zone == ""


def test_a_saved_language_sets_the_pages_language_and_djangos_own_strings(make_user):
    """Ana saves Spanish: her pages say <html lang="es"> and Django's forms speak Spanish, even
    though her browser asks for English; once she logs out, the cookie keeps the log-in page in
    Spanish too."""
    client = logged_in(make_user("ana"))
    english = client.get("/accounts/password/change/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en">' in english and "Old password" in english

    save_profile(client, language="es")
    spanish = client.get("/accounts/password/change/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="es">' in spanish and "Contraseña antigua" in spanish

    client.post("/accounts/logout/")
    login = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="es">' in login and "Contraseña" in login


def test_without_a_saved_language_the_browsers_is_used(client, make_user):
    assert '<html lang="es">' in client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="es-CO,es;q=0.9").content.decode()
    bea = logged_in(make_user("bea"))
    assert '<html lang="es">' in bea.get("/accounts/profile/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert '<html lang="en">' in bea.get("/accounts/profile/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_a_saved_time_zone_moves_the_messages_time_and_is_not_left_active(make_user, settings):
    """A message posted at 03:44 UTC on 21 November shows at 3:44 AM in the site's zone (UTC)
    and at 10:44 PM the day before for a reader in Bogotá."""
    settings.TIME_ZONE = "UTC"
    ana = make_user("ana")
    room, _ = room_get_or_create(name="Lobby")
    add_message(room, ana, "tarde en Bogotá", created_at=datetime.datetime(2026, 11, 21, 3, 44, tzinfo=datetime.UTC))
    client = logged_in(ana)
    assert ">3:44 AM<" in client.get(room.get_absolute_url()).content.decode()

    save_profile(client, time_zone="America/Bogota")
    page = client.get(room.get_absolute_url()).content.decode()
    assert ">10:44 PM<" in page and ">3:44 AM<" not in page
    assert timezone.get_current_timezone_name() == "UTC"  # nothing left for the next request


def test_the_log_and_the_members_show_display_names_with_their_profiles_joined(make_user, django_assert_num_queries):
    ana, bea = make_user("ana"), make_user("bea")
    Profile.objects.create(user=ana, display_name="Ana <b>María</b>")
    room, _ = room_get_or_create(name="Lobby")
    for user in (ana, bea):
        membership_join(room=room, user=user)
        add_message(room, user, f"hola from {user.username}")

    with django_assert_num_queries(4):  # the history, its reactions and attachments; the members (two: no count)
        authors = [display_name(line.message.author) for line in message_history(room=room)]
        members = [display_name(member) for member in room_members(room)[0]]
    assert authors == members == ["Ana <b>María</b>", "bea"]

    page = logged_in(bea).get(room.get_absolute_url()).content.decode()
    assert '<bdi class="message-author">Ana &lt;b&gt;María&lt;/b&gt;</bdi>' in page
    assert "<span>Ana &lt;b&gt;María&lt;/b&gt;</span>" in page
    assert '<bdi class="message-author">bea</bdi>' in page


def test_the_admin_edits_the_profile_with_its_user(admin_client, make_user):
    ana = make_user("ana")
    profile_for(ana)
    page = admin_client.get(f"/admin/auth/user/{ana.pk}/change/").content.decode()
    assert 'name="profile-0-display_name"' in page and 'name="profile-0-time_zone"' in page


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_in_memory_layer")
async def test_a_live_message_carries_its_authors_display_name(lobby_sockets):
    """Bea receives Ana's message with the name Ana chose, auto-escaped, not her username."""
    _room, (ana, bea) = await lobby_sockets("ana", "bea")
    await database_sync_to_async(Profile.objects.create)(user=ana.user, display_name="Ana & co")

    await ana.send_to(text_data=post_frame("hola"))

    pushed = await bea.receive_from()
    assert '<bdi class="message-author">Ana &amp; co</bdi>' in pushed and ">hola<" in pushed


def test_a_signed_in_user_is_read_with_their_profile_in_one_query(make_user, django_assert_num_queries):
    ana = make_user("ana")
    Profile.objects.create(user=ana, display_name="Ana María", language="es", time_zone="America/Bogota")
    backend = ProfileModelBackend()
    with django_assert_num_queries(1):
        user = backend.get_user(ana.pk)
        assert (display_name(user), preferences_for(user)) == ("Ana María", ("es", "America/Bogota"))
    ana.is_active = False
    ana.save()
    assert backend.get_user(ana.pk) is None  # Django's ModelBackend's rule, kept


@pytest.mark.django_db(transaction=True)
async def test_a_socket_chooses_its_variant_from_the_profile_read_with_its_user_then_drops_it(make_user):
    ana = await database_sync_to_async(make_user)("ana")
    await Profile.objects.acreate(user=ana, display_name="Ana", language="es", time_zone="America/Bogota")
    user = await ProfileModelBackend().aget_user(ana.pk)
    assert profile_loaded(user)
    display_name_forget()
    variant = await socket_variant({"user": user, "headers": []})
    assert variant == ("es", "America/Bogota")
    # A socket's user lives long: a name saved later is read then, not the one of its log-in.
    assert not profile_loaded(user)
    await Profile.objects.filter(user=ana).aupdate(display_name="Ana Nueva")
    assert await database_sync_to_async(display_name)(user) == "Ana Nueva"
    # What repeats (presence, pushes) takes the name read with the user, for its minute.
    assert display_name_recent(user) == "Ana"
