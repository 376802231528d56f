"""Whatever may end a user's access, from wherever it is saved or deleted (a view, the admin,
`manage.py shell`, another worker), changes their access version and tells their sockets to
check (chat/access.py): a log-out or an expired session deleted, a deactivation or password
change, a membership removed. And whatever changes how a kept latest page looks (chat.latest)
without moving its room's seqs changes a log version: a message saved or deleted outside
chat.edits, a display name, a username, a deleted user (their reactions go); and a membership
made, deleted or moved changes its room's members version (the member list its page keeps)."""

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from accounts.models import Profile

from .access import access_version_bump
from .broadcasts import user_sockets_check
from .latest import log_changed, members_changed
from .models import Membership, Message


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
    log_changed()  # their username, shown where they have no display name


@receiver(post_delete, sender=settings.AUTH_USER_MODEL)
def user_deleted(sender, instance, **kwargs):
    """A deleted user's access ends (their sessions' rows stay: a remembered read of one must not
    vouch for them), their messages go (each a Message deletion below) and their reactions too."""
    _access_changed(instance.pk)
    log_changed()


@receiver(post_save, sender=Profile)
def profile_saved(sender, instance, created, **kwargs):
    """A new display name shows on every message of its user, in every room (a profile made
    blank changes nothing shown). A handshake's remembered read of the user holds their profile
    (site_config.socket_auth): their access version moves, once committed, so that the next
    socket reads the user again (their open sockets are not told: nothing ended)."""
    if not created or instance.display_name:
        log_changed()
    user_id = instance.user_id
    transaction.on_commit(lambda: access_version_bump(user_id=user_id))


@receiver(post_save, sender=Message)
def message_saved(sender, instance, created, **kwargs):
    """A message changed in place (the admin, chat.edits): its room's kept page is read again.
    New messages move the room's last seq instead."""
    if not created:
        log_changed(instance.room_id)


@receiver(post_delete, sender=Message)
def message_deleted(sender, instance, **kwargs):
    """A message deleted (the admin, a deleted user's or room's cascade)."""
    log_changed(instance.room_id)


@receiver(post_delete, sender=Session)
def session_deleted(sender, instance, **kwargs):
    """A log-out (Django deletes the session), `clearsessions`, or a deletion in the admin."""
    user_id = instance.get_decoded().get(SESSION_KEY)
    if user_id is not None:
        _access_changed(int(user_id))


@receiver(pre_save, sender=Membership)
def membership_moving(sender, instance, **kwargs):
    """A stored membership given another user or room (the admin's inline allows it): the one it
    was ends as a removal does (membership_deleted), and the room it is now in has a new member.
    One query, for a stored membership only (the services create and delete them; markers move
    by UPDATE, with no signal)."""
    if instance.pk is None:
        return
    was = Membership.objects.filter(pk=instance.pk).values_list("user_id", "room_id").first()
    if was is not None and was != (instance.user_id, instance.room_id):
        _access_changed(was[0])
        members_changed(was[1])
        members_changed(instance.room_id)


@receiver(post_save, sender=Membership)
def membership_saved(sender, instance, created, **kwargs):
    """A member joined or was invited, by whatever path: their room's member list changed."""
    if created:
        members_changed(instance.room_id)


@receiver(post_delete, sender=Membership)
def membership_deleted(sender, instance, **kwargs):
    """A member removed, or leaving, by whatever path (the service, the admin's inline)."""
    _access_changed(instance.user_id)
    members_changed(instance.room_id)
