"""History at scale: the room page's server time and the older-history query's plan.

    DATABASE_URL=… bench/history.py --messages 1000000

Loads --messages messages over 100 rooms first (bench/load_history.py) unless they are there,
then times GET /chat/history-0/ in this process (middleware, view, queries, template: the
server's time, no network) for a visitor (not a member: the room read on its own) and for a
member (the room with their sidebar, their marker where it would go), and EXPLAINs the query of
the "show older messages" page. Prints one JSON line; `page_p99_ms` is the larger of the two.
"""

import argparse
import json
import time

import django_env

django_env.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402

from chat.access import (  # noqa: E402
    CLOCK_SKEW_SECONDS,
    access_version_ensure,
    access_version_get,
    access_version_time,
)
from chat.memberships import membership_join  # noqa: E402
from chat.models import Message, Room  # noqa: E402
from load_history import load_history  # noqa: E402


def page_percentiles(room, reader) -> list[float]:
    """`reader`'s page of `room`, 300 times after 20 to warm up: [p50, p99] of their times in ms.
    The times are a returning reader's: their access version (chat.access) made before the
    warm-up, and older than CLOCK_SKEW_SECONDS when the timed views begin, as it is for anyone
    whose access did not change in the last few seconds (site_config.session_reads)."""
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(reader)
    access_version_ensure(reader.pk)
    made = access_version_time(access_version_get(reader.pk)) or time.time()
    time.sleep(max(0.0, made + CLOCK_SKEW_SECONDS + 0.5 - time.time()))
    for _ in range(20):
        assert client.get(f"/chat/{room.slug}/").status_code == 200
    times = []
    for _ in range(300):
        start = time.perf_counter()
        client.get(f"/chat/{room.slug}/")
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return [times[len(times) // 2], times[int(len(times) * 0.99)]]


def main(messages: int) -> dict:
    stored = Message.objects.filter(room__slug__startswith="history-").count()
    if stored < messages:
        load_history(messages - stored, rooms=100)
        stored = Message.objects.filter(room__slug__startswith="history-").count()
    room = Room.objects.get(slug="history-0")
    visitor = get_user_model().objects.get_or_create(username="history-reader")[0]
    member = get_user_model().objects.get_or_create(username="history-member")[0]
    membership_join(room=room, user=member)
    visitor_page, member_page = page_percentiles(room, visitor), page_percentiles(room, member)
    older = room.messages.select_related("author").filter(seq__lt=room.last_seq // 2).order_by("-seq")[:50]
    plan = older.explain()
    index_line = next((line.strip(" ->") for line in plan.splitlines() if "Index" in line), plan.splitlines()[0])
    older_start = time.perf_counter()
    for _ in range(100):
        list(older.all())
    return {
        "messages": stored,
        "page_p50_ms": max(visitor_page[0], member_page[0]),
        "page_p99_ms": max(visitor_page[1], member_page[1]),
        "page_visitor_p50_p99_ms": visitor_page,
        "page_member_p50_p99_ms": member_page,
        "older_query_ms": (time.perf_counter() - older_start) * 10,
        "older_plan": index_line[:120],
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1_000_000)
    print(json.dumps(main(parser.parse_args().messages)))
