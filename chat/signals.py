"""Whatever may end a user's access, from wherever it is saved or deleted (a view, the admin,
`manage.py shell`, another worker), changes their access version and tells their sockets to
check (chat/access.py): a log-out or an expired session deleted, a deactivation or password
change, a membership removed."""

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .access import access_version_bump
from .broadcasts import user_sockets_check
from .models import Membership


def _access_changed(user_id) -> None:
    """Once committed: user `user_id`'s gates re-check at their next frame, and their open
    sockets re-check now."""

    def tell():
        access_version_bump(user_id=user_id)
        user_sockets_check(user_id=user_id)

    transaction.on_commit(tell)


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def user_saved(sender, instance, created, update_fields, **kwargs):
    """A saved user may have been deactivated or had the password changed (which ends the other
    sessions). Log-ins, which only touch last_login, don't count."""
    if created or (update_fields is not None and set(update_fields) == {"last_login"}):
        return
    _access_changed(instance.pk)


@receiver(post_delete, sender=Session)
def session_deleted(sender, instance, **kwargs):
    """A log-out (Django deletes the session), `clearsessions`, or a deletion in the admin."""
    user_id = instance.get_decoded().get(SESSION_KEY)
    if user_id is not None:
        _access_changed(int(user_id))


@receiver(post_delete, sender=Membership)
def membership_deleted(sender, instance, **kwargs):
    """A member removed, or leaving, by whatever path (the service, the admin's inline)."""
    _access_changed(instance.user_id)
