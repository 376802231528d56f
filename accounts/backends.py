"""The authentication backend: Django's ModelBackend, reading a signed-in user with their profile."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

UserModel = get_user_model()


class ProfileModelBackend(ModelBackend):
    """Django's ModelBackend (the same rules: active users only, passwords checked by Django)
    whose `get_user(user_id)` / `aget_user(user_id)` read the user and their accounts.Profile
    in one query (select_related), or return None.

    Every page and socket reads its user this way and then the profile (language and time zone:
    accounts.profiles.preferences_for; display names), which without the join is a second query
    each. A long-lived socket's user drops the profile it was read with once its variant is
    chosen (chat.variant_choice.socket_variant), so that a name changed later is not shown stale.
    """

    def get_user(self, user_id):
        try:
            user = UserModel._default_manager.select_related("profile").get(pk=user_id)
        except UserModel.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    async def aget_user(self, user_id):
        try:
            user = await UserModel._default_manager.select_related("profile").aget(pk=user_id)
        except UserModel.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
