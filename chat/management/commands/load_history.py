"""Load a large message history, for benchmarks of history at scale."""

import datetime
import itertools

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone

from chat.models import Message, Room


class Command(BaseCommand):
    help = (
        "Add --messages messages spread evenly over --rooms rooms named 'History <n>', written by "
        "the users named <prefix>0..<prefix>19 (made if missing) over the last 90 days. "
        "PostgreSQL gets them through COPY; other databases through bulk inserts."
    )

    def add_arguments(self, parser):
        parser.add_argument("--messages", type=int, default=1_000_000)
        parser.add_argument("--rooms", type=int, default=100)
        parser.add_argument("--prefix", default="historian")

    def handle(self, *, messages, rooms, prefix, **options):
        User = get_user_model()
        authors = []
        for i in range(20):
            user, created = User.objects.get_or_create(username=f"{prefix}{i}")
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
            authors.append(user.pk)
        per_room = messages // rooms
        now = timezone.now()
        step = datetime.timedelta(days=90) / max(per_room, 1)
        for n in range(rooms):
            room, _ = Room.objects.get_or_create(name=f"History {n}", defaults={"slug": f"history-{n}"})
            with transaction.atomic():
                locked = Room.objects.select_for_update().get(pk=room.pk)
                first = locked.last_seq + 1
                rows = (
                    (room.pk, author, f"Message {seq} of room {n}: the quick brown fox jumps over the lazy dog.",
                     now - step * (per_room - i), seq)
                    for i, (seq, author) in enumerate(zip(range(first, first + per_room), itertools.cycle(authors)))
                )
                self._insert(rows)
                Room.objects.filter(pk=room.pk).update(last_seq=first + per_room - 1, last_message_at=now)
            self.stdout.write(f"\rroom {n + 1}/{rooms}", ending="")
        self.stdout.write(f"\n{per_room * rooms} messages in {rooms} rooms")

    def _insert(self, rows):
        columns = ("room_id", "author_id", "body", "created_at", "seq")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                sql = f"COPY {Message._meta.db_table} ({', '.join(columns)}) FROM STDIN"
                with cursor.cursor.copy(sql) as copy:
                    for row in rows:
                        copy.write_row(row)
        else:
            batch = [Message(**dict(zip(columns, row))) for row in rows]
            Message.objects.bulk_create(batch, batch_size=2000)
