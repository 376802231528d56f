"""`{% load profiles %}`: `{{ user|display_name }}`, the name others see (accounts.profiles)."""

from django import template

from accounts import profiles

register = template.Library()


@register.filter
def display_name(user) -> str:
    """`user`'s display name, else their username (auto-escaped like any text). No query when
    the profile was loaded with the user: select_related("profile") (or "author__profile")."""
    return profiles.display_name(user)
