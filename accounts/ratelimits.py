"""How many accounts one client address may make, and how many log-ins it may fail whatever the
username (django-axes locks one username at one address; this catches one password tried on
many usernames).

Limits come from settings.ACCOUNTS_SIGNUP_RATE_LIMITS and ACCOUNTS_LOGIN_FAILURE_RATE_LIMITS in
the `limits` library's notation (";"-separated), counted in moving windows, in Redis when
REDIS_URL is set (shared by every worker), otherwise in this process's memory.

The address is REMOTE_ADDR, as axes reads it. Loopback addresses are not limited: they are
this machine (its scripts, the tests), or a proxy on it whose X-Forwarded-For the server was not
told to trust, and there every client would share one count, so a few failures would lock
everyone out. That last case is logged (docs/deployment.md: --proxy-headers).
"""

import ipaddress
import logging

from django.conf import settings
from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

logger = logging.getLogger(__name__)

_limiter: tuple[str, MovingWindowRateLimiter] | None = None


def limiter() -> MovingWindowRateLimiter:
    global _limiter
    if _limiter is None or _limiter[0] != settings.REDIS_URL:
        # Its own key prefix in Redis, so that a reset clears these counts and no others.
        options = {"key_prefix": "tertulia-accounts"} if settings.REDIS_URL else {}
        storage = storage_from_string(settings.REDIS_URL or "memory://", **options)
        _limiter = (settings.REDIS_URL, MovingWindowRateLimiter(storage))
    return _limiter[1]


def limited_address(request) -> str | None:
    """The client address to count `request` against, or None if it is not limited."""
    address = request.META.get("REMOTE_ADDR", "")
    try:
        loopback = ipaddress.ip_address(address).is_loopback
    except ValueError:
        return address
    if not loopback:
        return address
    if "HTTP_X_FORWARDED_FOR" in request.META:
        logger.warning(
            "A request through a proxy came from %s: the server does not trust the proxy's "
            "X-Forwarded-For, so limits per client address cannot tell clients apart",
            address,
        )
    return None


def signup_allowed(request) -> bool:
    """Count one account made from `request`'s address; False (and not counted) if that goes over
    settings.ACCOUNTS_SIGNUP_RATE_LIMITS: make none then."""
    address = limited_address(request)
    if address is None:
        return True
    limits = parse_many(settings.ACCOUNTS_SIGNUP_RATE_LIMITS)
    return all([limiter().hit(limit, "signup", address) for limit in limits])


def login_failure_count(request) -> None:
    """Count one failed log-in from `request`'s address."""
    address = limited_address(request)
    if address is not None:
        for limit in parse_many(settings.ACCOUNTS_LOGIN_FAILURE_RATE_LIMITS):
            limiter().hit(limit, "login-failure", address)


def login_allowed(request) -> bool:
    """Whether `request`'s address may try to log in: False once it has failed as many times
    as settings.ACCOUNTS_LOGIN_FAILURE_RATE_LIMITS allow, whatever the usernames."""
    address = limited_address(request)
    if address is None:
        return True
    limits = parse_many(settings.ACCOUNTS_LOGIN_FAILURE_RATE_LIMITS)
    return all(limiter().test(limit, "login-failure", address) for limit in limits)


def rate_limits_reset() -> None:
    """Forget every count (Redis keeps them across processes and runs): for tests, or to lift
    the limits after an incident."""
    limiter().storage.reset()
