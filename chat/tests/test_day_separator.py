"""The day separator names the reader's day: "Today" is today in the reader's time zone, whatever
the server's (Django's naturalday, given a plain date, took the server's)."""

import datetime
import re
import zoneinfo

import pytest
from django.utils import timezone, translation

from chat import fragments
from chat.rooms import room_get_or_create
from chat.selectors import LogLine
from chat.tests.support import add_message

pytestmark = pytest.mark.django_db

# At any instant one of these is on another date than UTC: UTC+14 from 10:00 UTC, UTC-11 until 11:00.
FAR_ZONES = ("Pacific/Kiritimati", "Pacific/Niue")


def test_a_message_just_posted_is_under_today_in_a_reader_zone_on_another_date_than_the_servers(make_user, settings):
    settings.TIME_ZONE = "UTC"
    room = room_get_or_create(name="Lobby")[0]
    message = add_message(room, make_user("ana"), "hola")
    server_today = datetime.datetime.now(datetime.UTC).date()
    zones = [zone for zone in FAR_ZONES if datetime.datetime.now(zoneinfo.ZoneInfo(zone)).date() != server_today]
    assert zones
    for zone in zones:
        with timezone.override(zone), translation.override("en"):
            line = LogLine.after(message, author_id=None, at=None)
            html = fragments.messages_append(lines=[line], cursor=message.seq)
        assert re.search(r'<h2 class="day-separator" id="day-[\d-]+">Today</h2>', html), (zone, html[:300])
