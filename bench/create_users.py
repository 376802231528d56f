"""Create many users, each with a logged-in session, in bulk: for load tests and benchmarks.

    DATABASE_URL=… .venv/bin/python bench/create_users.py --count 5000 --output cookies.json

Creates --count users named <prefix>0… (unusable passwords) and one session each, and writes
their session cookies as a JSON list to --output. Existing users of that name are reused.
"""

import argparse
import json
from importlib import import_module

import django_env

django_env.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model  # noqa: E402
from django.contrib.sessions.backends.base import VALID_KEY_CHARS  # noqa: E402
from django.contrib.sessions.models import Session  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.crypto import get_random_string  # noqa: E402

BACKEND = "accounts.backends.ProfileModelBackend"


def create_users(count: int, prefix: str = "bench") -> list[str]:
    """Make the users and their sessions; return their session cookies (`name=key`)."""
    User = get_user_model()
    names = [f"{prefix}{i}" for i in range(count)]
    existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    new_users = [User(username=name) for name in names if name not in existing]
    for user in new_users:
        user.set_unusable_password()  # No hashing: creating thousands stays fast.
    User.objects.bulk_create(new_users, batch_size=1000)
    users = list(User.objects.filter(username__in=names).order_by("id"))

    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    expires = timezone.now() + timezone.timedelta(days=1)
    sessions, cookies = [], []
    for user in users:
        key = get_random_string(32, VALID_KEY_CHARS)  # as Django draws them; the primary key rejects a clash
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: BACKEND,
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        sessions.append(Session(session_key=key, session_data=store_class().encode(data), expire_date=expires))
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={key}")
    Session.objects.bulk_create(sessions, batch_size=1000)
    return cookies


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--prefix", default="bench")
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    cookies = create_users(args.count, args.prefix)
    with open(args.output, "w") as out:
        json.dump(cookies, out)
    print(f"{len(cookies)} users with a session each; cookies in {args.output}")
