"""The profile is edited with its user, inline on Django's own user admin."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from .models import Profile


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    fields = ("display_name", "language", "time_zone")


class UserWithProfileAdmin(UserAdmin):
    """Django's user admin, with the user's profile (display name, language, time zone) below."""

    inlines = [*UserAdmin.inlines, ProfileInline]
    list_select_related = ["profile"]


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), UserWithProfileAdmin)
