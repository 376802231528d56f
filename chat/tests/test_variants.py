"""Every reader's own language and time zone on the socket, each push still rendered once per
variant (language × zone) present, never once per reader (chat/variants.py)."""

import datetime
import re
import uuid

import pytest
from channels.db import database_sync_to_async
from django.test import AsyncClient
from django.utils import timezone

from accounts.models import Profile
from chat import fragments, messages
from chat.memberships import membership_join
from chat.models import Message
from chat.rooms import room_archive
from chat.selectors import LogLine, room_members
from chat.tests.support import (
    ChatSocket,
    add_message,
    create_room,
    post_frame,
    session_cookie,
    sync_frame,
)
from chat.variants import Variant, default_variant, variant_choose
from site_config.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_in_memory_layer")]

BOGOTA = Variant("es", "America/Bogota")
MADRID = Variant("en", "Europe/Madrid")
UTC = datetime.UTC
# Thursday 17:00 in Bogotá, 23:00 in Madrid.
EVENING = datetime.datetime(2025, 11, 20, 22, 0, tzinfo=UTC)
# Thursday 23:30 in Bogotá (same day), Friday 5:30 in Madrid (a new day).
MADRID_AFTER_MIDNIGHT = datetime.datetime(2025, 11, 21, 4, 30, tzinfo=UTC)
# Friday 0:30 in Bogotá (a new day), Friday 6:30 in Madrid (same day).
BOGOTA_AFTER_MIDNIGHT = datetime.datetime(2025, 11, 21, 5, 30, tzinfo=UTC)


class Clock:
    """django.utils.timezone for chat.messages, whose now() is `at`: the time a message is posted."""

    at = EVENING

    def now(self):
        return self.at

    def __getattr__(self, name):
        return getattr(timezone, name)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(messages, "timezone", clock)
    return clock


@database_sync_to_async
def person(make_user, name: str, variant: Variant | None = None):
    """A new user called `name`, with `variant` saved as their preferences (None: none saved)."""
    user = make_user(name)
    if variant is not None:
        Profile.objects.create(user=user, language=variant.language, time_zone=variant.zone)
    return user


async def open_tab(room, user, accept_language: bytes | None = None) -> ChatSocket:
    """A socket on `room`'s page as support.join opens it, its handshake carrying
    `accept_language` (None: no Accept-Language header), synced with nothing missing."""
    headers = [(b"origin", b"http://localhost"), (b"cookie", await database_sync_to_async(session_cookie)(user))]
    if accept_language is not None:
        headers.append((b"accept-language", accept_language))
    socket = ChatSocket(application, f"/ws/chat/{room.slug}/", headers=headers)
    connected, _subprotocol = await socket.connect()
    assert connected and 'id="room-status"' in await socket.receive_from()
    await socket.send_to(text_data=sync_frame(await database_sync_to_async(lambda: room.messages.count())()))
    await socket.settle()
    return socket


async def message_push(socket: ChatSocket) -> str:
    """The next push of a message to `socket` (skipping its composer's answers)."""
    while 'id="messages"' not in (frame := await socket.receive_from()):
        pass
    return frame


def time_shown(push: str) -> str:
    return re.search(r"<time [^>]*>([^<]*)</time>", push).group(1)


@database_sync_to_async
def as_the_page_shows(room, seq: int, variant: Variant) -> str:
    """Message `seq` of `room` pushed as the page of a reader of `variant` would show it: read
    from the database and rendered in that variant, against the message before it."""
    rows = room.messages.select_related("author__profile").filter(seq__in=(seq - 1, seq)).order_by("seq")
    previous, message = list(rows)
    with variant.active():
        line = LogLine.after(message, author_id=previous.author_id, at=previous.created_at)
        return fragments.messages_append(lines=[line], cursor=seq)


async def test_each_reader_gets_the_others_message_in_their_own_language_zone_and_day(make_user, clock):
    """Bea (es, America/Bogota) and Max (en, Europe/Madrid): a message after Madrid's midnight but
    before Bogotá's starts a day for Max only, one after Bogotá's midnight for Bea only; each
    push is what each one's page would show. Ana, of the site's variant (UTC), is told Bea's
    message against Ana's midnight, not Bea's."""
    ana, bea, max_ = [
        await person(make_user, name, variant) for name, variant in (("ana", None), ("bea", BOGOTA), ("max", MADRID))
    ]
    room = await create_room("Lobby")
    await database_sync_to_async(add_message)(room, ana, "good evening", created_at=EVENING)
    anas, beas, maxs = await open_tab(room, ana), await open_tab(room, bea), await open_tab(room, max_)

    clock.at = MADRID_AFTER_MIDNIGHT
    await beas.send_to(text_data=post_frame("still Thursday here"))
    for_max, for_bea, for_ana = await message_push(maxs), await message_push(beas), await message_push(anas)
    assert for_ana == await as_the_page_shows(room, 2, default_variant()) and 'id="day-2025-11-21"' in for_ana
    assert for_max == await as_the_page_shows(room, 2, MADRID)
    assert for_bea == await as_the_page_shows(room, 2, BOGOTA)
    assert 'id="day-2025-11-21"' in for_max and "Friday" in for_max and time_shown(for_max) == "5:30 AM"
    assert "day-separator" not in for_bea and "jueves" in for_bea and re.match(r"(23|11):30", time_shown(for_bea))

    clock.at = BOGOTA_AFTER_MIDNIGHT
    await maxs.send_to(text_data=post_frame("good morning"))
    for_bea, for_max = await message_push(beas), await message_push(maxs)
    assert for_bea == await as_the_page_shows(room, 3, BOGOTA)
    assert for_max == await as_the_page_shows(room, 3, MADRID)
    assert 'id="day-2025-11-21"' in for_bea and "viernes" in for_bea.lower() and "Friday" not in for_bea
    assert re.match(r"(00|12):30", time_shown(for_bea))
    assert "day-separator" not in for_max and time_shown(for_max) == "6:30 AM"
    for socket in (anas, beas, maxs):
        await socket.disconnect()


async def test_two_tabs_in_two_languages_and_a_reconnect_after_a_change_each_get_their_own_bytes(make_user, clock):
    """Cy, with nothing saved, has a tab whose browser asks for Spanish and one for English:
    each gets the message in its language. Then Cy saves es/Bogotá: the open English tab keeps
    its variant until it reconnects, and the reconnected one gets Spanish in Bogotá's time."""
    ana, cy = await person(make_user, "ana"), await person(make_user, "cy")
    room = await create_room("Lobby")
    clock.at = MADRID_AFTER_MIDNIGHT  # Friday 4:30 in UTC, the site's zone
    spanish, english = await open_tab(room, cy, b"es-CO,es;q=0.9"), await open_tab(room, cy, b"en-GB,en;q=0.8")
    await database_sync_to_async(messages.message_create)(room=room, author=ana, body="hola")
    in_spanish, in_english = await message_push(spanish), await message_push(english)
    assert "viernes" in in_spanish and "Friday" not in in_spanish and re.match(r"0?4:30", time_shown(in_spanish))
    assert "Friday" in in_english and time_shown(in_english) == "4:30 AM"

    await database_sync_to_async(Profile.objects.create)(user=cy, language="es", time_zone="America/Bogota")
    reconnected = await open_tab(room, cy, b"en")
    await database_sync_to_async(messages.message_create)(room=room, author=ana, body="otra vez")
    in_english, in_bogota = await message_push(english), await message_push(reconnected)
    assert "Friday" in in_english and time_shown(in_english) == "4:30 AM"
    assert "jueves" in in_bogota and re.match(r"(23|11):30", time_shown(in_bogota))
    for socket in (spanish, english, reconnected):
        await socket.disconnect()


@database_sync_to_async
def rendered_in(variant: Variant, render, **kwargs) -> str:
    with variant.active():
        return render(**kwargs)


async def test_typing_an_archiving_and_a_new_member_reach_a_reader_in_their_own_variant(make_user):
    """Bea (es, Bogotá) is pushed each of these as rendered in her variant, from the event alone."""
    ana, bea, cy = [
        await person(make_user, name, variant) for name, variant in (("ana", None), ("bea", BOGOTA), ("cy", None))
    ]
    room = await create_room("Lobby")
    anas, beas = await open_tab(room, ana), await open_tab(room, bea)

    await anas.send_to(text_data=post_frame("hal", typing=True))
    typing = await beas.receive_from()
    assert (
        typing
        == await rendered_in(BOGOTA, fragments.typing, typist="ana")
        != await rendered_in(MADRID, fragments.typing, typist="ana")
    )

    archived = await database_sync_to_async(room_archive)(room=room)
    pushed = await beas.receive_from()
    assert pushed == await rendered_in(BOGOTA, fragments.room_changed, room=archived, composer=True)

    await database_sync_to_async(membership_join)(room=room, user=cy)
    while 'id="members-count"' not in (pushed := await beas.next_frame()):
        pass
    members, count = await database_sync_to_async(room_members)(room)
    assert pushed == await rendered_in(
        BOGOTA, fragments.members_changed, room=room, members=members, members_count=count, online_ids=[ana.pk, bea.pk]
    )
    for socket in (anas, beas):
        await socket.disconnect()


async def test_a_message_posted_without_javascript_reaches_others_in_their_variant_not_the_posters(make_user, clock):
    """Bea (es, Bogotá) posts through the no-JavaScript form, her language and zone active for
    the request: Ana, of the site's variant, gets English and UTC."""
    ana, bea = await person(make_user, "ana"), await person(make_user, "bea", BOGOTA)
    room = await create_room("Lobby")
    anas = await open_tab(room, ana)
    client = AsyncClient()
    await client.aforce_login(bea)
    clock.at = MADRID_AFTER_MIDNIGHT
    response = await client.post(f"/chat/{room.slug}/messages/", {"message": "hola", "key": str(uuid.uuid4())})
    assert response.status_code == 302
    push = await message_push(anas)
    assert "Friday" in push and time_shown(push) == "4:30 AM"
    assert push == await as_the_page_shows_first(room, default_variant())
    await anas.disconnect()


@database_sync_to_async
def as_the_page_shows_first(room, variant: Variant) -> str:
    message = Message.objects.select_related("author__profile").get(room=room, seq=1)
    with variant.active():
        return fragments.messages_append(lines=[LogLine.after(message, author_id=None, at=None)], cursor=1)


@pytest.mark.parametrize(
    ("saved", "cookie", "header", "language"),
    [
        ("", None, "es-CO,es;q=0.9,en;q=0.8", "es"),
        ("", None, "fr-FR, en;q=0.5", "en"),
        ("", None, "fr, *", "en"),
        ("", None, "", "en"),
        ("", "es", "en", "es"),
        ("en", "es", "es", "en"),
    ],
)
def test_a_sockets_language_is_the_saved_one_else_the_cookie_else_accept_language_else_the_sites(
    saved, cookie, header, language, settings
):
    """The order of the page's (LocaleMiddleware, then the saved preference)."""
    headers = [(b"accept-language", header.encode())] if header else []
    cookies = {settings.LANGUAGE_COOKIE_NAME: cookie} if cookie else {}
    variant = variant_choose(language=saved, zone="Europe/Madrid", headers=headers, cookies=cookies)
    assert variant == Variant(language, "Europe/Madrid")


def test_the_sites_variant_is_its_language_as_offered_and_its_time_zone(settings):
    """LANGUAGE_CODE "en-us" is offered as "en"; the zone is TIME_ZONE."""
    settings.TIME_ZONE = "Europe/Lisbon"
    assert default_variant() == Variant("en", "Europe/Lisbon")


def test_a_variant_made_active_inside_itself_or_another_leaves_each_as_it_was():
    """Variant.active inside the same variant overrides nothing, and one inside another is
    undone at its end: the language and time zone are the outer variant's again."""
    from django.utils import translation

    bogota, madrid = Variant("es", "America/Bogota"), Variant("en", "Europe/Madrid")
    with bogota.active():
        with bogota.active():
            assert (translation.get_language(), timezone.get_current_timezone_name()) == ("es", "America/Bogota")
            with madrid.active():
                assert (translation.get_language(), timezone.get_current_timezone_name()) == ("en", "Europe/Madrid")
            assert (translation.get_language(), timezone.get_current_timezone_name()) == ("es", "America/Bogota")
        assert (translation.get_language(), timezone.get_current_timezone_name()) == ("es", "America/Bogota")
    assert translation.get_language() != "es" or timezone.get_current_timezone_name() != "America/Bogota"
