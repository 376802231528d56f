"""What the bench leaves in the shared caches (the file cache, and Redis) before it measures:
its users' access versions, as returning members have them, and the session reads shared by
page views, made or forgotten (site_config.session_reads). Scripts run through manage.py
against the bench database (servers.python)."""

import servers


def shared_reads_forget() -> None:
    """Delete the session reads shared through each configuration's cache (the file cache, and
    Redis) for the sessions of RESULTS/cookies.json (site_config.session_reads): each is kept for
    up to RECHECK_SECONDS, so a run minutes after another would otherwise find the earlier run's
    reads, and measure no first read."""
    script = f"""
import json
from django.core.cache import cache
from site_config.session_reads import session_read_shared_key
cookies = json.loads(open({str(servers.RESULTS / "cookies.json")!r}).read())
cache.delete_many([session_read_shared_key(cookie.split("=", 1)[1]) for cookie in cookies])
"""
    for redis in (False, True):
        servers.python("manage.py", "shell", "--verbosity", "0", "-c", script, redis=redis)


def access_versions_ensure() -> None:
    """Give each user of RESULTS/cookies.json an access version in each configuration's cache (the
    file cache, and Redis), as their page views would have (chat.access.access_version_ensure: a
    version is made at a user's first page view or socket, and kept), older than a handshake's
    read needs: the bench's users are returning members, whose sockets' first access checks need
    no query. Without it, a run's connects measured whether the test suite (which empties the file
    cache) or Redis's restart had run since the last one. Waits out CLOCK_SKEW_SECONDS if it made any."""
    script = f"""
import json, time
from django.contrib.sessions.models import Session
from chat.access import CLOCK_SKEW_SECONDS, access_version_ensure, access_version_get
keys = [c.split("=", 1)[1] for c in json.loads(open({str(servers.RESULTS / "cookies.json")!r}).read())]
made = 0
for session in Session.objects.filter(pk__in=keys).iterator():
    user_id = int(session.get_decoded()["_auth_user_id"])
    if access_version_get(user_id) is None:
        access_version_ensure(user_id)
        made += 1
if made:
    time.sleep(CLOCK_SKEW_SECONDS + 1)  # waiting on the versions' age, not timing a result
"""
    for redis in (False, True):
        servers.python("manage.py", "shell", "--verbosity", "0", "-c", script, redis=redis)


def shared_reads_make(users: int, redis: bool = False) -> None:
    """What the first `users` cookies' page views leave in the shared reads of the file cache (of
    Redis if `redis`: site_config.session_reads), as if made on another worker or before a
    restart: each user's access version (made, then left older than the reads need), then each
    session read, as site_config.page_auth reads it, and shared."""
    script = f"""
import json, time
from django.test import RequestFactory
from chat.access import CLOCK_SKEW_SECONDS, access_version_ensure
from site_config.page_auth import page_user
from site_config.sessions import SessionStore
keys = [c.split("=", 1)[1] for c in json.loads(open({str(servers.RESULTS / "cookies.json")!r}).read())[:{users}]]
requests = []
for key in keys:
    request = RequestFactory().get("/chat/")
    request.session = SessionStore(key)
    requests.append(request)
for request in requests:
    access_version_ensure(int(request.session["_auth_user_id"]))
time.sleep(CLOCK_SKEW_SECONDS + 1)
for request in requests:
    request.session = SessionStore(request.session.session_key)
    assert page_user(request).is_authenticated
"""
    servers.python("manage.py", "shell", "--verbosity", "0", "-c", script, redis=redis)
