import datetime

import pytest
from channels.layers import BaseChannelLayer
from django.core.exceptions import ValidationError

from chat.broadcasts import members_group, page_group
from chat.messages import message_create
from chat.models import Message, Room
from chat.rooms import room_get_or_create
from chat.selectors import message_history
from chat.tests.support import add_message

pytestmark = pytest.mark.django_db


def test_room_from_unicode_name_gets_ascii_slug_and_valid_group_name():
    """Accents fold to ASCII; the slug is a valid channel-layer group name."""
    room, created = room_get_or_create(name="Café año 2026")
    assert created
    assert room.name == "Café año 2026"
    assert room.slug == "cafe-ano-2026"
    assert BaseChannelLayer().require_valid_group_name(page_group(room))
    assert BaseChannelLayer().require_valid_group_name(members_group(room))


def test_same_name_in_other_case_or_spacing_is_the_same_room():
    """Names are matched case-insensitively, trimmed and with inner spaces collapsed."""
    room, _ = room_get_or_create(name="Café año")
    again, created = room_get_or_create(name="  café   AÑO ")
    assert not created
    assert again == room
    assert Room.objects.count() == 1


def test_names_with_same_slug_get_unique_slugs():
    """ "Café" and "Cafe" are two rooms; the second slug gets a suffix."""
    first, _ = room_get_or_create(name="Café")
    second, _ = room_get_or_create(name="Cafe!")
    third, _ = room_get_or_create(name="cafe?")
    assert [first.slug, second.slug, third.slug] == ["cafe", "cafe-2", "cafe-3"]


def test_emoji_only_name_gets_a_fallback_slug():
    """A name with nothing left after ASCII folding still gets a usable slug."""
    party, _ = room_get_or_create(name="🎉🎉")
    balloon, _ = room_get_or_create(name="🎈")
    assert party.slug == "room"
    assert balloon.slug == "room-2"


def test_long_name_slug_stays_under_channels_group_limit():
    """An 80-character name gives a slug of at most 50 characters, even with a suffix."""
    name = "a very long room name " * 4
    rooms = [room_get_or_create(name=name[:79] + str(i))[0] for i in range(3)]
    for room in rooms:
        assert len(room.slug) <= Room.SLUG_MAX_LENGTH
        assert len(page_group(room)) < 100 and len(members_group(room)) < 100
    assert len({room.slug for room in rooms}) == 3


def test_history_returns_latest_messages_oldest_first(make_user, settings):
    """CHAT_HISTORY_LIMIT caps the history; the newest are kept, in stored order."""
    settings.CHAT_HISTORY_LIMIT = 3
    ana = make_user("ana")
    room, _ = room_get_or_create(name="Lobby")
    for i in range(5):
        add_message(room, ana, f"m{i}")
    assert [line.message.body for line in message_history(room=room)] == ["m2", "m3", "m4"]


def test_message_create_saves_and_moves_room_activity(make_user):
    """The room's last activity is the new message's time."""
    ana = make_user("ana")
    room, _ = room_get_or_create(name="Lobby")
    message = message_create(room=room, author=ana, body="hola")
    room.refresh_from_db()
    assert room.last_message_at == message.created_at


def test_message_create_rejects_blank_and_over_long_bodies(make_user):
    """The service validates too, whoever calls it; nothing is saved."""
    ana = make_user("ana")
    room, _ = room_get_or_create(name="Lobby")
    for body in ["", "x" * (Message.BODY_MAX_LENGTH + 1)]:
        with pytest.raises(ValidationError):
            message_create(room=room, author=ana, body=body)
    assert not Message.objects.exists()


def test_message_day_is_in_site_time_zone(make_user, settings):
    """00:30 UTC on the 2nd is still the 1st in New York."""
    settings.TIME_ZONE = "America/New_York"
    ana = make_user("ana")
    room, _ = room_get_or_create(name="Lobby")
    at = datetime.datetime(2026, 3, 2, 0, 30, tzinfo=datetime.UTC)
    message = add_message(room, ana, "late", created_at=at)
    assert message.day == datetime.date(2026, 3, 1)


def test_emoji_and_accents_survive_the_database_round_trip(make_user):
    """Four-byte characters are stored whole (utf8mb4 on MySQL/MariaDB)."""
    ana = make_user("ana")
    room, _ = room_get_or_create(name="Fiesta 🎉 año")
    message_create(room=room, author=ana, body="¡Olé! 🎉👩‍💻 ñandú")
    room = Room.objects.get(pk=room.pk)
    assert room.name == "Fiesta 🎉 año"
    assert Message.objects.get().body == "¡Olé! 🎉👩‍💻 ñandú"
