"""Actions on rooms: create (public, private, direct), rename and describe, archive.

Each validates, saves in a transaction, and once the database has committed asks
`broadcasts` to tell the open sockets (Zulip's `send_event_on_commit`): nothing is pushed that
was not saved. Names given here must already be valid (non-blank, at most
Room.NAME_MAX_LENGTH characters): the forms check that.
"""

import secrets
from collections.abc import Callable
from typing import TypeVar

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import broadcasts
from .models import Membership, Room

# Slugs that are other pages' paths under /chat/ (chat/urls.py).
RESERVED_SLUGS = {"direct", "search", "mentions"}
# The most people a direct conversation may have, its starter included (Slack's is 9).
DIRECT_MAX_PEOPLE = 9

T = TypeVar("T")


def _create_once(*, find: Callable[[], T | None], create: Callable[[], T], what: str) -> tuple[T, bool]:
    """`(find(), False)` if it finds something, else `(create(), True)`, create() running in a
    transaction. When create() hits a unique constraint (someone created the same thing, or
    took its slug, in between) it looks again, up to three times; then IntegrityError."""
    for _attempt in range(3):
        found = find()
        if found is not None:
            return found, False
        try:
            with transaction.atomic():
                return create(), True
        except IntegrityError:
            continue
    raise IntegrityError(f"Could not create {what}")


def _slug_available(name: str) -> str:
    """A slug for a new room named `name` that no room has yet: ASCII, at most 50 characters.

    Accents are folded by Django's `slugify` ("Café año" -> "cafe-ano"); a name with no ASCII
    letters left (emoji only) becomes "room"; a taken or reserved slug gets "-2", "-3"...
    """
    base = slugify(name)[: Room.SLUG_MAX_LENGTH - 6].strip("-") or "room"
    taken = set(Room.objects.filter(slug__startswith=base).values_list("slug", flat=True)) | RESERVED_SLUGS
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def room_get_or_create(*, name: str, creator=None) -> tuple[Room, bool]:
    """`(room, created)` for the public room called `name`, created (by `creator`) if new.

    Names match whatever their case, accent composition and spacing (`Room.key_for`); two
    requests creating the same name at once get the same room."""
    name = Room.normalize_name(name)
    return _create_once(
        find=lambda: Room.objects.filter(name_key=Room.key_for(name)).first(),
        create=lambda: Room.objects.create(name=name, slug=_slug_available(name), created_by=creator),
        what=f"a room named {name!r}",
    )


def room_create_private(*, name: str, creator) -> Room:
    """Create a private room called `name` (private names need not be unique), with `creator`
    as its first member. Its slug is random ("p-…"): it says nothing of its name, and takes no
    readable slug from the public rooms."""
    name = Room.normalize_name(name)

    def create() -> Room:
        room = Room.objects.create(name=name, slug=f"p-{secrets.token_hex(6)}", is_private=True, created_by=creator)
        Membership.objects.create(room=room, user=creator)
        return room

    room, _created = _create_once(find=lambda: None, create=create, what=f"a private room named {name!r}")
    return room


def room_get_or_create_direct(*, starter, usernames: list[str]) -> tuple[Room, bool]:
    """`(room, created)`: the direct conversation between `starter` and the active users called
    `usernames` (exact; `starter`'s own is ignored), created if new.

    One conversation per set of people, whoever starts it (the unique `direct_key`). It is a
    private room of those people. Raises ValidationError if a username is unknown, if no one
    else is named, or if the set has more than DIRECT_MAX_PEOPLE people. Once committed, every
    member's open sockets add it to their sidebar.
    """
    names = {name for name in usernames if name} - {starter.get_username()}
    others = list(get_user_model().objects.filter(username__in=names, is_active=True))
    unknown = sorted(names - {other.get_username() for other in others})
    if unknown:
        raise ValidationError(_("There is no one called %(names)s.") % {"names": ", ".join(unknown)})
    if not others:
        raise ValidationError(_("Name at least one other person to talk to."))
    people = sorted([starter, *others], key=lambda person: person.pk)
    if len(people) > DIRECT_MAX_PEOPLE:
        raise ValidationError(
            ngettext(
                "A direct conversation has at most %(count)d person.",
                "A direct conversation has at most %(count)d people.",
                DIRECT_MAX_PEOPLE,
            )
            % {"count": DIRECT_MAX_PEOPLE}
        )
    key = ",".join(str(person.pk) for person in people)
    name = ", ".join(sorted(person.get_username() for person in people))[: Room.NAME_MAX_LENGTH]

    def create() -> Room:
        # A random slug: a conversation's URL does not say who is in it.
        room = Room.objects.create(
            name=name, slug=f"dm-{secrets.token_hex(6)}", is_private=True, direct_key=key, created_by=starter
        )
        Membership.objects.bulk_create(Membership(room=room, user=person) for person in people)
        for person in people:
            transaction.on_commit(lambda user_id=person.pk: broadcasts.sidebar_refresh(user_id=user_id))
        return room

    return _create_once(
        find=lambda: Room.objects.filter(direct_key=key).first(), create=create, what=f"a conversation of {key}"
    )


def room_update(*, room: Room, editor, name: str, description: str) -> Room:
    """Rename `room` and set its description, for `editor`, who must be allowed to manage it
    (`Room.can_manage`) in a room that is not archived: PermissionDenied otherwise.

    The slug, and so every link and open socket, stays. Raises ValidationError (on "name") if
    another public room has that name. Once committed, the room's open pages get the new
    header and its members' sidebars the new name."""
    if room.is_archived or not room.can_manage(editor):
        raise PermissionDenied("Only the room's creator or staff can change its settings.")
    room.name, room.description = name, description
    try:
        with transaction.atomic():
            room.save(update_fields=["name", "name_key", "description"])
    except IntegrityError:
        raise ValidationError(
            {"name": _("There is already a room called %(name)s.") % {"name": Room.normalize_name(name)}}
        ) from None
    transaction.on_commit(lambda: broadcasts.room_changed_broadcast(room=room))
    return room


def room_archive(*, room: Room, archived: bool = True) -> Room:
    """Archive `room` (read-only: its history stays) or, with `archived` False, restore it: the
    admin's actions, for moderators. Once committed, its open pages' composers give way to a
    notice (or come back) and its members' sidebars mark it."""
    room.archived_at = timezone.now() if archived else None
    room.save(update_fields=["archived_at"])
    transaction.on_commit(lambda: broadcasts.room_changed_broadcast(room=room, composer=True))
    return room
