"""The WebSocket origin check: a handshake is accepted only from the site's own origins, as
Django's CSRF check accepts a form only from them, and each refusal is logged.

Channels' AllowedHostsOriginValidator compared only the Origin's host with ALLOWED_HOSTS, so
`http://127.0.0.1:9999` (any other program on that host) or plain http beside https passed.
Here scheme, host and port must all match one of:
- the handshake's own origin: its Host header, with https when it came over TLS (`wss`) or,
  with SECURE_PROXY_SSL_HEADER set, when the proxy's header says so (Django's `is_secure()`);
- an origin in CSRF_TRUSTED_ORIGINS (`https://*.example.com` for any subdomain, as Django).
The Host header itself must be in ALLOWED_HOSTS, as Django requires of every HTTP request.
"""

import functools
import logging
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

logger = logging.getLogger(__name__)

DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_parts(origin: str) -> tuple[str, str, int] | None:
    """`(scheme, host, port)` of an http(s) origin, the port filled in if default; None for
    anything else ("null", another scheme, garbage)."""
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.scheme, parts.hostname, port or DEFAULT_PORTS[parts.scheme]


def trusted_origin_matches(origin: tuple[str, str, int], trusted: str) -> bool:
    """Whether `origin` is the CSRF_TRUSTED_ORIGINS entry `trusted` (or, for a `*.` entry,
    a subdomain of it)."""
    scheme, star, rest = trusted.partition("://*.")
    if not star:
        return origin == origin_parts(trusted)
    pattern = origin_parts(f"{scheme}://{rest}")
    return (
        pattern is not None
        and (origin[0], origin[2]) == (pattern[0], pattern[2])
        and is_same_domain(origin[1], "." + pattern[1])
    )


def is_secure(scope, headers: dict[bytes, list[bytes]]) -> bool:
    """Whether the handshake reached the site over TLS: Django's `HttpRequest.is_secure()`."""
    if settings.SECURE_PROXY_SSL_HEADER:
        meta_name, secure_value = settings.SECURE_PROXY_SSL_HEADER
        name = meta_name.removeprefix("HTTP_").replace("_", "-").lower().encode("latin1")
        if name in headers:
            return headers[name][0].decode("latin1").split(",")[0].strip() == secure_value
    return scope.get("scheme") == "wss"


def allowed_hosts() -> list[str]:
    if settings.DEBUG and not settings.ALLOWED_HOSTS:
        return [".localhost", "127.0.0.1", "[::1]"]  # Django's own default in that case
    return settings.ALLOWED_HOSTS


def refusal(scope) -> str | None:
    """Why the handshake in `scope` must be refused, or None if its origin is the site's."""
    headers: dict[bytes, list[bytes]] = {}
    for name, value in scope.get("headers", []):
        headers.setdefault(name, []).append(value)
    return _refusal(tuple(headers.get(b"origin", ())), tuple(headers.get(b"host", ())), is_secure(scope, headers))


@functools.lru_cache(maxsize=64)
def _refusal(origins: tuple[bytes, ...], hosts: tuple[bytes, ...], secure: bool) -> str | None:
    """refusal()'s verdict on a handshake with these Origin and Host headers, over TLS if
    `secure`. Kept for the few pairs a site sees (its own origins): a crowd of handshakes parses
    them once, not once each. Forgotten when the settings it reads change (tests)."""
    origin = origins[0].decode("latin1") if len(origins) == 1 else None  # none, or ambiguous
    parts = None if origin is None else origin_parts(origin)
    if not hosts:
        # HTTP/1.1 requires Host and browsers, which are what an origin check protects, always
        # send it; only in-process callers (Channels' WebsocketCommunicator) leave it out. For
        # them, Channels' rule: the origin's host is an allowed host.
        if parts is None or not validate_host(parts[1], allowed_hosts()):
            return f"origin {origin!r} is not an allowed host"
        return None
    host = hosts[0].decode("latin1")
    domain, _port = split_domain_port(host)
    if len(hosts) > 1 or not domain or not validate_host(domain, allowed_hosts()):
        return f"Host {host!r} is not in ALLOWED_HOSTS (origin {origin!r})"
    own = f"{'https' if secure else 'http'}://{host}"
    if parts is not None and (
        parts == origin_parts(own) or any(trusted_origin_matches(parts, t) for t in settings.CSRF_TRUSTED_ORIGINS)
    ):
        return None
    site = ", ".join(repr(o) for o in [own, *settings.CSRF_TRUSTED_ORIGINS])
    return f"origin {origin!r} is not an allowed host, scheme and port (this site's: {site})"


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs) -> None:
    if setting in {"ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "DEBUG", "SECURE_PROXY_SSL_HEADER"}:
        _refusal.cache_clear()


class OriginValidator:
    """ASGI middleware for WebSocket handshakes: the application, or a refusal (403 before
    `accept`) logged as a warning. Settings are read at each handshake."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        reason = refusal(scope)
        if reason is None:
            return await self.application(scope, receive, send)
        logger.warning("WebSocket refused: %s", reason)
        return await WebsocketDenier()(scope, receive, send)
