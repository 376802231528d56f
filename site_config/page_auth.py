"""A page view's user: Django's session authentication, taking a remembered read of the session
(site_config.session_reads: this process's, or the one shared through the cache) while it still
vouches."""

import time

from django.contrib import auth
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.utils.functional import SimpleLazyObject

from chat.access import access_version_ensure

from .session_reads import session_read_arecall, session_read_recall, session_read_remember, session_read_share


def page_user(request):
    """`request`'s user, as django.contrib.auth.get_user(request) finds it (an active user whose
    session and password hash still hold, or AnonymousUser), once per request: the remembered
    read's copy when it vouches (no query, one or two cache reads), else read (two queries),
    remembered and shared."""
    if not hasattr(request, "_cached_user"):
        key = request.session.session_key
        read = session_read_recall(key)
        if read is not None:
            request._cached_user = read.user_copy()
            request.session.accessed = True  # as a read would: the response varies by cookie
        else:
            read_at = time.time()
            request._cached_user = auth.get_user(request)
            if read := session_read_remember(request.session, key, request._cached_user, read_at):
                access_version_ensure(request._cached_user.pk)  # for the read to vouch once it is older
                session_read_share(key, read)  # for the socket this page opens, on whichever worker
    return request._cached_user


async def page_auser(request):
    """page_user, for async views (`await request.auser()`)."""
    if not hasattr(request, "_acached_user"):
        read = await session_read_arecall(request.session.session_key)
        if read is not None:
            request._acached_user = read.user_copy()
            request.session.accessed = True
        else:  # not remembered here: the async views are the rare no-script posts
            request._acached_user = await auth.aget_user(request)
    return request._acached_user


class PageAuthenticationMiddleware(AuthenticationMiddleware):
    """Django's AuthenticationMiddleware (the same `request.user` and `request.auser()`, lazy, and
    the same rules) reading the user through page_user / page_auser. In settings.MIDDLEWARE in
    its place: after SessionMiddleware, whose engine must be site_config.sessions (its store
    keeps the expiry it loaded)."""

    def process_request(self, request):
        super().process_request(request)  # checks the session middleware is there
        request.user = SimpleLazyObject(lambda: page_user(request))
        request.auser = lambda: page_auser(request)
