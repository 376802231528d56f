"""Which variant (language × time zone) a reader is in: the `Variant`, the site's default, and a
socket's, decided once at connect from the user's saved preferences, the page's language cookie
and the handshake's Accept-Language (the order of Django's LocaleMiddleware). What is rendered
per variant is chat.variants'.
"""

import contextlib
import zoneinfo
from typing import NamedTuple

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation.trans_real import language_code_re, parse_accept_lang_header

from accounts.profiles import preferences_for, profile_forget, profile_loaded


class Variant(NamedTuple):
    """How a reader is shown things: `language`, a code of settings.LANGUAGES ("es"), and
    `zone`, an IANA time zone name ("America/Bogota")."""

    language: str
    zone: str

    @property
    def key(self) -> str:
        """How a push names the variant it was rendered in: "es America/Bogota"."""
        return f"{self.language} {self.zone}"

    @contextlib.contextmanager
    def active(self):
        """Render in this variant inside the block (Django's translation and time zone
        overrides; what was active before is back after it, in this task or thread only).
        Nothing to override when it is active already (a socket of the site's variant pushing)."""
        if translation.get_language() == self.language and timezone.get_current_timezone_name() == self.zone:
            yield
            return
        with translation.override(self.language), timezone.override(zoneinfo.ZoneInfo(self.zone)):
            yield


def _site_language() -> str:
    try:
        return translation.get_supported_language_variant(settings.LANGUAGE_CODE)
    except LookupError:
        return settings.LANGUAGE_CODE


def default_variant() -> Variant:
    """The site's variant: settings.LANGUAGE_CODE (as offered by settings.LANGUAGES: "en-us" is
    "en") and settings.TIME_ZONE. What a reader with no preference and no browser language
    gets, and what every push is first rendered in."""
    return Variant(_site_language(), settings.TIME_ZONE)


def active(variant: Variant | None):
    """A context manager rendering in `variant` (None: the site's default)."""
    return (variant or default_variant()).active()


def _offered(code: str | None) -> str | None:
    """The language of settings.LANGUAGES that `code` ("es-CO") asks for, or None."""
    if not code or not language_code_re.search(code):
        return None
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


def variant_choose(*, language: str, zone: str, headers=(), cookies=None) -> Variant:
    """The variant of a socket whose user saved `language` ("" for none) and `zone` (an IANA
    name: accounts.profiles.preferences_for gives the site's when none is saved), opened with
    the handshake's `headers` (ASGI: (bytes, bytes) pairs) and `cookies` (a dict). Without a
    saved language: the language cookie, then Accept-Language, then the site's (the order of
    Django's LocaleMiddleware, so the socket speaks as its page does)."""
    chosen = language or _offered((cookies or {}).get(settings.LANGUAGE_COOKIE_NAME))
    if not chosen:
        header = next((value.decode("latin-1") for name, value in headers if name == b"accept-language"), "")
        for code, _quality in parse_accept_lang_header(header):
            if code == "*":
                break
            if chosen := _offered(code):
                break
    return Variant(chosen or _site_language(), zone)


async def socket_variant(scope) -> Variant:
    """The variant of the socket of `scope` (a signed-in user's; variant_choose), from the
    profile read with the user (accounts.backends), which the socket's long-lived user then
    drops (accounts.profiles.profile_forget); without one, one query through the database
    thread."""
    user = scope["user"]
    if profile_loaded(user):
        language, zone = preferences_for(user)
        profile_forget(user)
    else:
        language, zone = await database_sync_to_async(preferences_for)(user)
    return variant_choose(language=language, zone=zone, headers=scope.get("headers", ()), cookies=scope.get("cookies"))
