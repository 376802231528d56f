"""Actions on memberships: joining, inviting, removing and leaving, and read markers.

Rules come from the room (`Room.admits`, `Room.can_manage`); once committed, the people
concerned hear about it through `broadcasts` (their sidebars re-read, their sockets re-check,
the room's open pages take the new member list).
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from . import broadcasts
from .models import Membership, Room
from .presence_pushes import members_broadcast


def membership_join(*, room: Room, user) -> Membership:
    """`user`'s membership of `room`, joining it if it is public. Raises PermissionDenied for a
    private room they are not a member of. A new membership reaches their sidebars."""
    if room.is_private:
        membership = Membership.objects.filter(room=room, user=user).first()
        if membership is None:
            raise PermissionDenied("Only members can enter a private room.")
        return membership
    membership, created = Membership.objects.get_or_create(room=room, user=user)
    if created:
        transaction.on_commit(lambda: broadcasts.sidebar_refresh(user_id=user.pk))
        transaction.on_commit(lambda: members_broadcast(room=room))
    return membership


def membership_invite(*, room: Room, inviter, username: str) -> Membership:
    """Add the active user called `username` to `room`, for `inviter`, who must be a member
    (PermissionDenied otherwise, in a direct conversation, whose people are fixed, and in an
    archived room). Raises
    ValidationError if there is no such user or they are a member already. Once committed, the
    invitee's sidebars add the room."""
    if room.is_direct:
        raise PermissionDenied("A direct conversation's people are fixed: start a new one to add someone.")
    if room.is_archived:
        raise PermissionDenied("This room is archived: no one can join it.")
    if not Membership.objects.filter(room=room, user=inviter).exists():
        raise PermissionDenied("Only members can invite people to this room.")
    invitee = get_user_model().objects.filter(username=username, is_active=True).first()
    if invitee is None:
        raise ValidationError(_("There is no one called %(username)s.") % {"username": repr(username)})
    membership, created = Membership.objects.get_or_create(room=room, user=invitee)
    if not created:
        raise ValidationError(_("%(username)s is already a member.") % {"username": username})
    transaction.on_commit(lambda: broadcasts.sidebar_refresh(user_id=invitee.pk))
    transaction.on_commit(lambda: members_broadcast(room=room))
    return membership


def membership_remove(*, room: Room, remover, user) -> None:
    """Remove `user` from `room`: by someone who may manage it (`Room.can_manage`), or by `user`
    themselves (leaving). PermissionDenied otherwise, and always in a direct conversation,
    whose people are what it is, and for others' memberships of a public room
    (`Room.can_remove_members`). Once committed, the removed user's sockets re-check their
    access (a private room's close with 4003) and their sidebars drop the room."""
    if room.is_direct:
        raise PermissionDenied("No one can leave or be removed from a direct conversation.")
    if remover.pk != user.pk and not room.can_remove_members(remover):
        raise PermissionDenied("Only a private room's creator or staff can remove members.")
    with transaction.atomic():
        # Deleting the membership tells the user's sockets to re-check (chat/signals.py).
        for membership in Membership.objects.filter(room=room, user=user):
            membership.delete()
            transaction.on_commit(lambda: broadcasts.sidebar_refresh(user_id=user.pk))
            transaction.on_commit(lambda: members_broadcast(room=room))


def membership_mark_read(*, room: Room, user, seq: int) -> None:
    """Record that `user` has read `room` up to message `seq`, never moving the marker back.
    One UPDATE; nothing if they are not a member. If it moved, once committed, the user's other
    sockets are told, so that every tab's sidebar agrees."""
    if Membership.objects.filter(room=room, user=user, last_read_seq__lt=seq).update(last_read_seq=seq):
        transaction.on_commit(lambda: broadcasts.membership_read_broadcast(user_id=user.pk, room_id=room.pk, seq=seq))


def membership_admit(*, slug: str, user) -> Room | None:
    """The room at `slug` if it admits `user` to its page (opening a public room's socket joins
    it: membership_join), else None: no such room and a private room they are not in are
    answered alike, so that a socket cannot tell whether a private room exists. One query for
    a member (the room, with whether they are one), more to join."""
    member = Membership.objects.filter(room=OuterRef("pk"), user=user)
    room = Room.objects.filter(slug=slug).annotate(member=Exists(member)).first()
    if room is None:
        return None
    if not room.member:
        try:
            membership_join(room=room, user=user)
        except PermissionDenied:
            return None
    return room
