"""A user's profile: how others see them (a display name) and how they read (language, time zone).

A user has no profile row until one is needed: `profiles.profile_for` makes it the first time
the profile page is opened. Everything that reads a profile treats a missing row as an empty
one (the username shown, the browser's language, the site's time zone), so users made by any
path (sign-up, the admin, `createsuperuser`, a bulk load) need nothing more.
"""

import zoneinfo
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


@cache
def time_zone_names() -> tuple[str, ...]:
    """The IANA time zone names a profile may hold, sorted: Python's `zoneinfo.available_timezones()`
    (this machine's tz database) without "localtime" (whatever this machine is set to) and
    "Factory" (a placeholder with no offset). Read once per process: the scan opens ≈600 files."""
    return tuple(sorted(zoneinfo.available_timezones() - {"localtime", "Factory"}))


def validate_time_zone(value: str) -> None:
    """Raise ValidationError (code "invalid_time_zone") unless `value` is one of time_zone_names()."""
    if value not in time_zone_names():
        raise ValidationError(
            _("“%(value)s” is not a time zone: choose one from the list, such as Europe/Madrid."),
            code="invalid_time_zone",
            params={"value": value},
        )


def language_choices() -> list[tuple[str, str]]:
    """settings.LANGUAGES, read when a form is built (a callable, so no migration follows a change)."""
    return list(settings.LANGUAGES)


class Profile(models.Model):
    """One user's preferences. Each field may be blank, meaning "no preference": the username is
    shown, the language is the browser's (Accept-Language), the time zone is the site's
    (settings.TIME_ZONE, from DJANGO_TIME_ZONE)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    display_name = models.CharField(
        _("display name"),
        max_length=50,
        blank=True,
        help_text=_("Shown with your messages and in member lists. Your username stays your handle."),
    )
    language = models.CharField(_("language"), max_length=15, blank=True, choices=language_choices)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True, validators=[validate_time_zone])

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return self.display_name or self.user.get_username()

    def save(self, *args, **kwargs):
        from .profiles import display_name_forget  # it reads this model: imported when used

        self.display_name = self.display_name.strip()
        super().save(*args, **kwargs)
        display_name_forget(self.user_id)  # a rename shows on this process's next push at once
