"""Load a large message history, for benchmarks of history at scale.

    DATABASE_URL=… .venv/bin/python bench/load_history.py [--messages 1000000] [--rooms 100]

Adds --messages messages spread evenly over --rooms rooms named 'History <n>', written by the
users named <prefix>0..<prefix>19 (made if missing) over the last 90 days. PostgreSQL gets them
through COPY; other databases through bulk inserts.
"""

import argparse
import datetime
import itertools
import sys
from typing import TextIO

import django_env

django_env.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from chat.models import Message, Room  # noqa: E402

COLUMNS = ("room_id", "author_id", "body", "created_at", "seq")


def load_history(messages: int, rooms: int = 100, prefix: str = "historian", progress: TextIO | None = None) -> int:
    """Add the messages; return how many were added. Progress lines go to `progress` if given."""
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
            seqs = range(first, first + per_room)
            rows = (
                (
                    room.pk,
                    author,
                    f"Message {seq} of room {n}: the quick brown fox jumps over the lazy dog.",
                    now - step * (per_room - i),
                    seq,
                )
                for i, (seq, author) in enumerate(zip(seqs, itertools.cycle(authors), strict=False))
            )
            _insert(rows)
            Room.objects.filter(pk=room.pk).update(last_seq=first + per_room - 1, last_message_at=now)
        if progress:
            progress.write(f"\rroom {n + 1}/{rooms}")
    if progress:
        progress.write("\n")
    return per_room * rooms


def _insert(rows) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            sql = f"COPY {Message._meta.db_table} ({', '.join(COLUMNS)}) FROM STDIN"
            with cursor.cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
    else:
        batch = [Message(**dict(zip(COLUMNS, row, strict=True))) for row in rows]
        Message.objects.bulk_create(batch, batch_size=2000)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--rooms", type=int, default=100)
    parser.add_argument("--prefix", default="historian")
    args = parser.parse_args()
    added = load_history(args.messages, args.rooms, args.prefix, progress=sys.stdout)
    print(f"{added} messages in {args.rooms} rooms")
