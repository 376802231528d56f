from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from .health import healthz

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="chat:room_list"), name="home"),
    path("accounts/", include("accounts.urls")),
    path("chat/", include("chat.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
]
