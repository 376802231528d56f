"""`manage.py seed_demo`, the demo behind `make screenshots`: its rooms, idempotence, and ana's
"New messages" point."""

from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from chat.management.commands.seed_demo import CAFE, DIRECT, LISBOA, RELEASE, demo_seed
from chat.models import Membership, Message, Room
from chat.tests.support import logged_in

pytestmark = pytest.mark.django_db

ROOMS = {("Café", False), ("Viaje a Lisboa", False), ("Release 2.0", True), ("ana, diego", True)}


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_makes_the_rooms_and_running_it_again_adds_nothing(settings):
    settings.DEBUG = True
    seed()
    ana = get_user_model().objects.get(username="ana")
    logged_in(ana).get("/chat/cafe/")  # ana reads Café: her "New messages" point moves to its end
    assert Membership.objects.get(room__slug="cafe", user=ana).last_read_seq == len(CAFE)

    assert "/chat/cafe/" in seed()

    assert set(Room.objects.values_list("name", "is_private")) == ROOMS
    assert sorted(get_user_model().objects.values_list("username", flat=True)) == ["ana", "carla", "diego", "tom"]
    assert Message.objects.count() == len(CAFE) + len(LISBOA) + len(RELEASE) + len(DIRECT)
    assert Room.objects.get(name="Release 2.0").memberships.count() == 3
    assert Membership.objects.get(room__slug="cafe", user=ana).last_read_seq == len(CAFE) - 8


def test_ana_opens_cafe_on_a_new_messages_divider_before_diegos_list(settings):
    settings.DEBUG = True
    seed()
    ana = get_user_model().objects.get(username="ana")
    page = logged_in(ana).get("/chat/cafe/").content.decode()
    divider, first_unread = page.index('id="new-messages"'), page.index("Un par de cosas en el móvil")
    assert page.index("Thanks Tom!") < divider < first_unread


def test_seed_demo_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DJANGO_DEBUG"):
        seed()
    assert not get_user_model().objects.exists()


@pytest.mark.parametrize("clock", ["00:30", "10:49", "11:00", "23:59"])
def test_every_demo_message_is_in_the_past_on_two_consecutive_days(clock):
    now = timezone.make_aware(datetime.combine(timezone.localdate(), datetime.strptime(clock, "%H:%M").time()))
    demo_seed(now=now)
    times = list(Message.objects.values_list("created_at", flat=True))
    days = sorted({timezone.localdate(at) for at in times})
    assert max(times) <= now
    assert len(days) == 2 and days[1] - days[0] == timedelta(days=1)
    assert now - max(times) < timedelta(days=1)
