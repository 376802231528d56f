"""`manage.py seed_demo`: a demo team to look at, and to take the README's screenshots of
(`make screenshots`, docs/screenshots/make.py). Idempotent: run it again and nothing is added,
and the viewer's "New messages" point is put back where it was."""

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from chat.memberships import membership_invite, membership_join
from chat.messages import message_create
from chat.models import Membership, Message, Room
from chat.rooms import room_create_private, room_get_or_create, room_get_or_create_direct, room_update

DEMO_PASSWORD = "tertulia-demo"
VIEWER = "ana"
PEOPLE = ("carla", "diego", "ana", "tom")
# The second day's last message is at 10:50: before 11:00 the two days are the two before today,
# so that no message is in the future.
LAST_DAY_FROM = time(11, 0)

# (day, "HH:MM" local time, author, body); day 1 is the later of the two days.
CAFE = [
    (0, "09:04", "carla", "¡Buenos días! Who's in the office today?"),
    (0, "09:06", "tom", "Working from home, the builders are back next door."),
    (0, "09:11", "diego", "Yo voy a las diez. ¿Alguien quiere algo de la cafetería de la esquina?"),
    (0, "09:12", "ana", "¡Yo! Un cortado, porfa."),
    (
        0,
        "11:30",
        "carla",
        "Reminder: the client demo is on Thursday.\nWe still need:\n- the new onboarding screens\n"
        "- a fix for the export bug\n- someone to write the release notes",
    ),
    (0, "11:34", "tom", "I'll take the release notes."),
    (0, "11:41", "diego", "El bug del export es mío. Creo que es el formato de fecha en los CSV."),
    (0, "11:43", "ana", "I can pair on that after lunch if you want."),
    (0, "11:44", "diego", "Perfecto, a las tres."),
    (
        0,
        "15:20",
        "diego",
        "Encontrado: the dates were written in the server's time zone, not the user's.\nFix is in review.",
    ),
    (0, "15:26", "carla", "¡Genial! Gracias a los dos."),
    (0, "18:02", "tom", "Heading out. Anyone up for the quiz night on Friday?"),
    (0, "18:05", "ana", "Count me in, but I'm terrible at the sports questions."),
    (
        1,
        "08:52",
        "carla",
        "Morning! The onboarding screens are up on staging.\nFeedback welcome, sobre todo en el móvil.",
    ),
    (1, "09:10", "diego", "Les echo un vistazo ahora."),
    (1, "09:15", "tom", "Release notes draft is in the shared folder."),
    (1, "09:20", "ana", "Thanks Tom! I'll read them before standup."),
    (
        1,
        "09:48",
        "diego",
        "Un par de cosas en el móvil:\n1. el botón «Siguiente» queda tapado por el teclado\n"
        "2. el texto del paso 3 se corta",
    ),
    (1, "09:55", "carla", "Good catch. I'll fix both this morning."),
    (1, "10:02", "tom", "Standup in 5 minutes, same link as always."),
    (1, "10:30", "diego", "Export fix merged."),
    (1, "10:41", "carla", "Mobile fixes are on staging. Diego, ¿lo pruebas otra vez?"),
    (1, "10:44", "diego", "Ya está, todo bien."),
    (1, "10:46", "tom", "Great, then we're ready for Thursday."),
    (1, "10:50", "carla", "Ana, can you do the demo run-through with me at 12?\nI'll bring the slides."),
]
RELEASE = [
    (0, "16:10", "carla", "Between us for now: the client asked to move the launch to the 14th."),
    (0, "16:15", "tom", "Ouch. Does that change the demo?"),
    (1, "09:30", "carla", "The demo stays on Thursday, only the launch moves. Don't announce it yet."),
    (1, "09:33", "tom", "Got it."),
]
LISBOA = [
    (0, "20:14", "diego", "¿Reservamos ya el alojamiento para mayo?"),
    (0, "20:20", "carla", "Sí, antes de que suban los precios. Ana, ¿te apuntas?"),
    (0, "20:31", "ana", "¡Claro! Mirad algo cerca de Alfama."),
]
DIRECT = [
    (1, "10:05", "diego", "¿Me pasas el enlace de staging? No lo encuentro."),
]


def demo_days(*, now: datetime) -> tuple[date, date]:
    """The two consecutive days (local dates, settings.TIME_ZONE) the demo's messages are on:
    yesterday and today, or the two days before today if `now` (aware) is before LAST_DAY_FROM,
    so that every message is in the past."""
    local = timezone.localtime(now)
    last = local.date() if local.time() >= LAST_DAY_FROM else local.date() - timedelta(days=1)
    return last - timedelta(days=1), last


def demo_seed(*, password: str = DEMO_PASSWORD, now: datetime | None = None) -> list[Room]:
    """Make (or find) the demo: PEOPLE (new users get `password`), the public rooms "Café" and
    "Viaje a Lisboa", carla's private "Release 2.0" with ana and tom, and diego and ana's
    direct conversation; post each room's messages (CAFE, LISBOA, RELEASE, DIRECT) if it has
    none, on the two `demo_days` around `now` (default: the current time). Everyone has read
    everything, except VIEWER: 8 unread in Café, 2 in Release 2.0, 1 from diego.

    Returns the rooms, Café first. Runs in one transaction; call it with DEBUG on only (the
    passwords are known): the command checks that.
    """
    days = demo_days(now=now or timezone.now())
    with transaction.atomic():
        people = {username: _person(username=username, password=password) for username in PEOPLE}
        carla, diego, ana, tom = (people[username] for username in PEOPLE)
        cafe, created = room_get_or_create(name="Café", creator=carla)
        if created:
            room_update(room=cafe, editor=carla, name="Café", description="De todo un poco · a bit of everything")
        lisboa, _created = room_get_or_create(name="Viaje a Lisboa", creator=diego)
        release = _private_room(name="Release 2.0", creator=carla, invited=[ana, tom])
        direct, _created = room_get_or_create_direct(starter=diego, usernames=[VIEWER])
        for room, lines, unread in ((cafe, CAFE, 8), (lisboa, LISBOA, 0), (release, RELEASE, 2), (direct, DIRECT, 1)):
            _post(room=room, lines=lines, days=days, people=people)
            room.refresh_from_db(fields=["last_seq"])
            Membership.objects.filter(room=room).update(last_read_seq=room.last_seq)
            Membership.objects.filter(room=room, user=ana).update(last_read_seq=max(room.last_seq - unread, 0))
    return [cafe, lisboa, release, direct]


def _person(*, username: str, password: str):
    """The user called `username`, made with `password` if new (an existing one keeps theirs)."""
    user, created = get_user_model().objects.get_or_create(username=username)
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    return user


def _private_room(*, name: str, creator, invited: list) -> Room:
    """`creator`'s private room called `name`, made with `invited` in it if they have none."""
    room = Room.objects.filter(name=name, is_private=True, direct_key=None, created_by=creator).first()
    if room is None:
        room = room_create_private(name=name, creator=creator)
        for user in invited:
            membership_invite(room=room, inviter=creator, username=user.get_username())
    return room


def _post(*, room: Room, lines: list, days: tuple[date, date], people: dict) -> None:
    """Post `lines` in `room` through the service, dated on `days`, unless it has messages."""
    if room.last_seq:
        return
    for day, clock, author, body in lines:
        membership_join(room=room, user=people[author])
        message = message_create(room=room, author=people[author], body=body)
        at = timezone.make_aware(datetime.combine(days[day], time.fromisoformat(clock)))
        # The service stamps "now"; the demo's history is dated as if it had been typed then.
        Message.objects.filter(pk=message.pk).update(created_at=at)
        Room.objects.filter(pk=room.pk).update(last_message_at=at)


class Command(BaseCommand):
    help = "Make a demo team (carla, diego, ana, tom), its rooms and two days of messages. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--password", default=DEMO_PASSWORD, help="new demo users' password")

    def handle(self, *args, password: str, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo makes users with a known password: run it with DJANGO_DEBUG on only.")
        rooms = demo_seed(password=password)
        self.stdout.write(f"Log in as {VIEWER} ({password}) and open {rooms[0].get_absolute_url()}")
