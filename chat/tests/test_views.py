import datetime
import re

import pytest
from django.utils import timezone

from chat.models import Room
from chat.rooms import room_get_or_create
from chat.tests.support import add_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana_client(client, make_user):
    ana = make_user("ana")
    client.force_login(ana)
    client.user = ana
    return client


@pytest.mark.parametrize("path", ["/chat/", "/chat/lobby/"])
def test_chat_pages_require_login_and_come_back_after(client, path):
    """Anonymous readers are sent to log in, with ?next= back to the page."""
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


def test_root_redirects_to_room_index(client):
    assert client.get("/")["Location"] == "/chat/"


def test_room_index_lists_most_recently_active_first(ana_client):
    """Rooms with the newest message come first; rooms with none come last."""
    now = timezone.now()
    room_get_or_create(name="Quiet")
    busy = room_get_or_create(name="Busy")[0]
    older = room_get_or_create(name="Older")[0]
    Room.objects.filter(pk=busy.pk).update(last_message_at=now)
    Room.objects.filter(pk=older.pk).update(last_message_at=now - datetime.timedelta(hours=3))

    html = ana_client.get("/chat/").content.decode()

    assert html.index(">Busy<") < html.index(">Older<") < html.index(">Quiet<")
    assert "no messages yet" in html
    assert "3\xa0hours ago" in html


def test_room_name_form_creates_room_and_redirects_to_it(ana_client):
    """A unicode name makes a room with an ASCII slug; asking again goes to the same room."""
    response = ana_client.post("/chat/", {"name": "Café año 2026"})
    assert response["Location"] == "/chat/cafe-ano-2026/"
    again = ana_client.post("/chat/", {"name": "café AÑO 2026"})
    assert again["Location"] == "/chat/cafe-ano-2026/"
    assert Room.objects.get().name == "Café año 2026"


@pytest.mark.parametrize("name", ["", "    ", "x" * 81], ids=["empty", "blank", "81-chars"])
def test_blank_or_over_long_room_name_gets_a_form_error(ana_client, name):
    response = ana_client.post("/chat/", {"name": name})
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert 'class="invalid-feedback"' in response.content.decode()
    assert not Room.objects.exists()


def test_unknown_room_is_404(ana_client):
    assert ana_client.get("/chat/nowhere/").status_code == 404


def test_room_page_groups_history_by_day_in_site_time_zone(ana_client, settings, make_user):
    """Yesterday's and today's messages sit under their own separators, with 12-hour times."""
    settings.TIME_ZONE = "America/New_York"
    bea = make_user("bea")
    room = room_get_or_create(name="Lobby")[0]
    local_now = timezone.localtime()
    today_1405 = local_now.replace(hour=14, minute=5, second=0, microsecond=0)
    if today_1405 > local_now:
        today_1405 = local_now.replace(second=0, microsecond=0)
    yesterday = today_1405 - datetime.timedelta(days=1)
    long_ago = today_1405 - datetime.timedelta(days=30)
    for author, body, at in [
        (bea, "old news", long_ago),
        (bea, "from yesterday", yesterday),
        (ana_client.user, "from today", today_1405),
    ]:
        add_message(room, author, body, created_at=at)

    html = ana_client.get(room.get_absolute_url()).content.decode()

    separators = re.findall(r'<h2 class="day-separator" id="day-([\d-]+)">([^<]+)</h2>', html)
    assert separators == [
        (long_ago.date().isoformat(), long_ago.strftime("%A, %B %-d, %Y")),
        (yesterday.date().isoformat(), "Yesterday"),
        (today_1405.date().isoformat(), "Today"),
    ]
    assert html.index("old news") < html.index("from yesterday") < html.index("from today")
    assert today_1405.strftime("%-I:%M %p") in html


def test_room_page_opens_on_latest_messages_only(ana_client, settings):
    settings.CHAT_HISTORY_LIMIT = 2
    room = room_get_or_create(name="Lobby")[0]
    for body in ["one", "two", "three"]:
        add_message(room, ana_client.user, body)
    html = ana_client.get(room.get_absolute_url()).content.decode()
    assert ">one<" not in html and ">two<" in html and ">three<" in html


def test_room_page_wires_the_socket_log_and_own_message_style(ana_client):
    """The page connects to its room's socket, exposes a polite log, and styles the reader's
    own messages by their author id."""
    room = room_get_or_create(name="Lobby")[0]
    message = add_message(room, ana_client.user, "<b>mine</b>")
    html = ana_client.get(room.get_absolute_url()).content.decode()
    assert 'hx-ext="ws" ws-connect="/ws/chat/lobby/"' in html
    assert 'role="log" aria-live="polite"' in html
    assert f'id="message-{message.pk}"' in html
    assert "&lt;b&gt;mine&lt;/b&gt;" in html
    assert f'.message[data-author="{ana_client.user.pk}"]' in html
    assert '<form id="message-form" method="post"' in html and "ws-send" in html and '<textarea name="message"' in html
    assert '<label for="id_message" class="visually-hidden">Message</label>' in html


def test_room_page_links_to_older_messages_which_load_in_place(ana_client, settings):
    """With more history than the page holds, a link loads the page before it, with the next
    link, and the day separator of the day both pages share moves up (out-of-band delete)."""
    settings.CHAT_HISTORY_LIMIT = 2
    room = room_get_or_create(name="Lobby")[0]
    for body in ["one", "two", "three", "four", "five"]:
        add_message(room, ana_client.user, body)

    page = ana_client.get(room.get_absolute_url()).content.decode()
    assert 'hx-get="/chat/lobby/older/?before=4"' in page
    older = ana_client.get("/chat/lobby/older/?before=4", HTTP_HX_REQUEST="true").content.decode()

    assert ">two<" in older and ">three<" in older and ">one<" not in older and ">four<" not in older
    assert 'hx-get="/chat/lobby/older/?before=2"' in older
    assert older.count('class="day-separator"') == 1
    assert 'hx-swap-oob="delete"' in older
    oldest = ana_client.get("/chat/lobby/older/?before=2", HTTP_HX_REQUEST="true").content.decode()
    assert ">one<" in oldest and "Show older messages" not in oldest
    # Without JavaScript the link leads to a whole page of that older history.
    whole = ana_client.get("/chat/lobby/older/?before=4").content.decode()
    assert "<!doctype html>" in whole and ">two<" in whole and ">three<" in whole and ">four<" not in whole
    assert ana_client.get("/chat/lobby/older/?before=x").status_code == 400
