"""Every reader's own time zone and language in one room: Bea reads Spanish in Bogotá, Max reads
English in Madrid. Each sees the other's live message at the time, and under the day, of their
own zone, in their own language; a message after midnight for one and before it for the other
starts a day for that one only. Their browsers ask for the other's language, and the server's
own zone is on another day than one of them: only their profiles can make the pages right."""

import contextlib
import datetime
import multiprocessing
import zoneinfo
from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import Profile
from chat import messages
from chat.models import Message
from chat.rooms import room_get_or_create
from chat.tests.support import add_message, session_cookie
from e2e.browser import in_language, send
from e2e.servers import live_server

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

UTC = datetime.UTC
# Thursday 17:00 in Bogotá, 23:00 in Madrid.
THURSDAY_EVENING = datetime.datetime(2025, 11, 20, 22, 0, tzinfo=UTC)
# Thursday 23:30 in Bogotá (the same day), Friday 5:30 in Madrid (a new day).
AFTER_MADRIDS_MIDNIGHT = datetime.datetime(2025, 11, 21, 4, 30, tzinfo=UTC)
# Friday 0:30 in Bogotá (a new day), Friday 6:30 in Madrid (the same day).
AFTER_BOGOTAS_MIDNIGHT = datetime.datetime(2025, 11, 21, 5, 30, tzinfo=UTC)


class PostingClock:
    """The clock that stamps a message posted through the composer (chat.messages'
    `timezone.now()`), shared with the server forked after it replaced that module's `timezone`:
    the real time, but inside `stamping(at)` the instant `at`."""

    def __init__(self):
        self._stamp = multiprocessing.Value("d", 0.0)  # a POSIX timestamp; 0: the real time

    @contextlib.contextmanager
    def stamping(self, at: datetime.datetime) -> Iterator[None]:
        """Inside the block, messages posted are stamped `at` (an aware datetime); after it, now."""
        self._stamp.value = at.timestamp()
        try:
            yield
        finally:
            self._stamp.value = 0.0

    def now(self) -> datetime.datetime:
        """The instant a message posted now is stamped with (aware, in UTC)."""
        stamp = self._stamp.value
        return datetime.datetime.fromtimestamp(stamp, UTC) if stamp else timezone.now()

    def __getattr__(self, name: str):
        return getattr(timezone, name)


def zone_on_another_day(now: datetime.datetime) -> str:
    """An IANA zone whose date, at `now` and for the hour after, differs from Bogotá's or from
    Madrid's (or both): UTC-12 until 11:00 UTC, UTC+14 from then on ("Etc/GMT+12" is UTC-12)."""
    return "Etc/GMT+12" if now.astimezone(UTC).hour < 11 else "Etc/GMT-14"


@pytest.fixture(scope="module")
def clock() -> PostingClock:
    """The posting clock of this module's live server."""
    return PostingClock()


@pytest.fixture(scope="module")
def live_server_url(django_db_setup, django_db_blocker, clock) -> Iterator[str]:
    """Instead of the session's live server: one forked with `clock` stamping its posts, and with
    its own zone (TIME_ZONE, the process's local time too) on another day than a reader's, so
    that "today" or a time told in the server's zone instead of the reader's shows."""
    with contextlib.ExitStack() as stack:
        with (
            override_settings(TIME_ZONE=zone_on_another_day(timezone.now())),
            pytest.MonkeyPatch.context() as patch,
            django_db_blocker.unblock(),
        ):
            patch.setattr(messages, "timezone", clock)
            url = stack.enter_context(live_server())
        yield url


def reader(new_page, base_url: str, username: str, language: str, zone: str, browser_locale: str) -> Page:
    """A browser asking for `browser_locale` and signed in as a new user `username`, whose profile
    says `language` and `zone`; on no page yet."""
    user = get_user_model().objects.create_user(username)
    Profile.objects.create(user=user, language=language, time_zone=zone)
    page = new_page(locale=browser_locale)
    name, value = session_cookie(user).decode().split("=", 1)
    page.context.add_cookies([{"name": name, "value": value, "url": base_url}])
    return page


def open_room(page: Page, room, language: str) -> None:
    """Open `room`'s page on `page` (a reader's, in `language`) and wait until it is connected."""
    page.goto(room.get_absolute_url())
    expect(page.get_by_role("status")).to_have_text(in_language(language, "Connected"))


def what_the_log_shows(page: Page):
    """The log's day separators and message times, in page order."""
    return page.get_by_role("log").locator(".day-separator, .message time")


def time_in(zone: str, language: str, at: datetime.datetime) -> str:
    """`at` as a clock in `zone` shows it: "18:30" in Spanish, "6:30 PM" in English."""
    local = at.astimezone(zoneinfo.ZoneInfo(zone))
    return f"{local:%H:%M}" if language == "es" else f"{local.hour % 12 or 12}:{local:%M %p}"


@pytest.fixture
def room_of_bea_and_max(new_page, live_server_url):
    """Bea (es, Bogotá; her browser asks for English) and Max (en, Madrid; his asks for Spanish),
    not yet in the room Sobremesa."""
    bea = reader(new_page, live_server_url, "bea", "es", "America/Bogota", "en-US")
    max_ = reader(new_page, live_server_url, "max", "en", "Europe/Madrid", "es-ES")
    return bea, max_, room_get_or_create(name="Sobremesa")[0]


def test_a_message_after_midnight_for_one_reader_and_before_it_for_the_other_starts_a_day_for_that_one(
    room_of_bea_and_max, clock
):
    """Ana wrote on Thursday evening. Bea posts at 23:30 her time, 5:30 on Friday in Madrid: Max
    sees it under "Friday, November 21, 2025", Bea under no new day. Max posts at 6:30 his time,
    0:30 on Friday in Bogotá: Bea sees it under "Viernes, 21 de noviembre de 2025", Max under
    no new day. Each time is on the reader's clock; a reload shows the same."""
    bea, max_, room = room_of_bea_and_max
    add_message(room, get_user_model().objects.create_user("ana"), "¿Cenamos mañana?", created_at=THURSDAY_EVENING)
    open_room(bea, room, "es")
    open_room(max_, room, "en")

    with clock.stamping(AFTER_MADRIDS_MIDNIGHT):
        send(bea, "Aquí aún es jueves", language="es")
    expect(max_.get_by_role("log")).to_contain_text("Aquí aún es jueves")
    with clock.stamping(AFTER_BOGOTAS_MIDNIGHT):
        send(max_, "Good morning from Madrid", language="en")
    expect(bea.get_by_role("log")).to_contain_text("Good morning from Madrid")

    beas_log = ["Jueves, 20 de noviembre de 2025", "17:00", "23:30", "Viernes, 21 de noviembre de 2025", "00:30"]
    maxs_log = ["Thursday, November 20, 2025", "11:00 PM", "Friday, November 21, 2025", "5:30 AM", "6:30 AM"]
    for reload in (False, True):
        for page, shown in ((bea, beas_log), (max_, maxs_log)):
            if reload:
                page.reload()
            expect(what_the_log_shows(page)).to_have_text(shown)


def test_each_reader_sees_the_others_live_message_at_their_own_time_under_their_own_today(room_of_bea_and_max):
    """Ana wrote a day ago; Max, then Bea, write now: Bea sees "Ayer", then Max's message under
    "Hoy" at Bogotá's time on a 24-hour clock; Max sees "Yesterday", then Bea's message under
    "Today" at Madrid's time with AM/PM."""
    bea, max_, room = room_of_bea_and_max
    ana = get_user_model().objects.create_user("ana")
    add_message(room, ana, "¿Alguien despierto?", created_at=timezone.now() - datetime.timedelta(days=1))
    open_room(bea, room, "es")
    open_room(max_, room, "en")

    send(max_, "Max here, in Madrid", language="en")
    expect(bea.get_by_role("log")).to_contain_text("Max here, in Madrid")
    send(bea, "Aquí Bea, en Bogotá", language="es")
    expect(max_.get_by_role("log")).to_contain_text("Aquí Bea, en Bogotá")

    at = list(Message.objects.order_by("seq").values_list("created_at", flat=True))
    for page, language, zone, days in (
        (bea, "es", "America/Bogota", ["Ayer", "Hoy"]),
        (max_, "en", "Europe/Madrid", ["Yesterday", "Today"]),
    ):
        times = [time_in(zone, language, instant) for instant in at]
        expect(what_the_log_shows(page)).to_have_text([days[0], times[0], days[1], times[1], times[2]])
