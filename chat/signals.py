"""Account changes that may end a user's sessions tell that user's open sockets to check."""

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from .broadcasts import user_sockets_check


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def user_saved_check_sockets(sender, instance, created, update_fields, **kwargs):
    """A saved user may have been deactivated or had the password changed (which ends the
    other sessions): their sockets check. Log-ins, which only touch last_login, don't count."""
    if created or (update_fields is not None and set(update_fields) == {"last_login"}):
        return
    transaction.on_commit(lambda: user_sockets_check(user_id=instance.pk))
