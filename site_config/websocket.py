"""The WebSocket origin check, as Channels' AllowedHostsOriginValidator plus a log line per
refusal (Channels refuses silently, which hides misconfigured proxies and cross-site attempts)."""

import logging

from channels.security.websocket import OriginValidator
from django.conf import settings

logger = logging.getLogger(__name__)


class LoggedOriginValidator(OriginValidator):
    """Channels' OriginValidator; a refused origin is logged as a warning with the origin."""

    def valid_origin(self, parsed_origin) -> bool:
        valid = super().valid_origin(parsed_origin)
        if not valid:
            origin = parsed_origin.geturl() if parsed_origin is not None else None
            logger.warning("WebSocket refused: origin %r is not an allowed host", origin)
        return valid


def allowed_hosts_origin_validator(application):
    """Wrap `application` so that only origins whose host is in ALLOWED_HOSTS may open sockets
    (with DEBUG on and ALLOWED_HOSTS empty, the local host names: Channels' own rule)."""
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = ["localhost", "127.0.0.1", "[::1]"]
    return LoggedOriginValidator(application, allowed_hosts)
