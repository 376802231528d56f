from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from accounts.views import language_set

from .health import healthz

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="chat:room_list"), name="home"),
    path("accounts/", include("accounts.urls")),
    # Django's set_language (django.conf.urls.i18n's one view) at its usual address, which also
    # saves a signed-in user's choice to their profile.
    path("i18n/setlang/", language_set, name="set_language"),
    path("chat/", include("chat.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
]
