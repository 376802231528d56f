"""Each signed-in reader's own language and time zone, per request."""

import zoneinfo

from django.conf import settings
from django.utils import timezone, translation
from django.utils.deprecation import MiddlewareMixin

from .profiles import preferences_for


class PreferencesMiddleware(MiddlewareMixin):
    """Activate the language and time zone saved in a signed-in user's profile for this request
    (Django's `translation.activate` and `timezone.activate`, as its documented time zone
    middleware does), and set `request.LANGUAGE_CODE` to match.

    Goes after AuthenticationMiddleware (it reads `request.user`) and after LocaleMiddleware,
    which has already picked the language from the language cookie or the browser's
    Accept-Language: that choice stands for anyone signed out or with no saved language, and
    LocaleMiddleware's Content-Language header names the language used. Without a saved time
    zone the site's applies (settings.TIME_ZONE); the time zone is deactivated again once the
    response is made, so none is left to whatever runs next in the same thread. One query per
    signed-in request (preferences_for), none for others.
    """

    def process_request(self, request):
        language, zone = preferences_for(request.user)
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        if zone == settings.TIME_ZONE:
            timezone.deactivate()
        else:
            timezone.activate(zoneinfo.ZoneInfo(zone))

    def process_response(self, request, response):
        timezone.deactivate()
        return response
