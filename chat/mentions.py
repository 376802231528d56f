"""Mentions: whom a message mentions, what a reader has not read of them, and their list.

A message mentions the members of its room named in it as `@username` (whatever the case), and
with `@here` the members who have the room open as it is sent (chat/presence.py). Nobody else:
naming someone who is not a member of a private room neither invites nor tells them, and the
name stays plain text. The author is never told of their own mentions.
"""

from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import Lower

from .formatting import HERE
from .models import Membership, Mention, Message, Reaction, Room
from .presence import presence_list

# The most people one `@here` tells: the room's most recently active, like the "online now" list.
HERE_MAX_PEOPLE = 1000


def mentions_find(*, room: Room, names: set[str]) -> list:
    """The active members of `room` that `names` mention (formatting.mentioned_usernames: names
    as typed, "here" for `@here`), as users. A name matches a username without regard to case
    (Python's casefold; on SQLite, whose LOWER() folds only ASCII, a non-ASCII name must also
    be typed in its own case). With "here", also the members present in the room now (at most
    HERE_MAX_PEOPLE; none while presence is unknown). One query (none without names), plus one
    presence read for `@here`; call it outside a transaction (the presence store is Redis).
    """
    if not names:
        return []
    named = names - {HERE}
    present: set[int] = set()
    if HERE in names:
        shown, _total = async_to_sync(presence_list)(room_id=room.pk, limit=HERE_MAX_PEOPLE)
        present = {person.user_id for person in shown or ()}
    if not named and not present:
        return []
    users = get_user_model().objects.filter(memberships__room=room, is_active=True).only("pk", "username")
    if connection.vendor == "mysql":
        # The column's collation ignores case (and accents: Python has the last word below).
        users = users.filter(Q(username__in=named) | Q(pk__in=present))
    else:
        lowered = {name.lower() for name in named}  # found by the index of migration 0007
        users = users.annotate(lowered=Lower("username")).filter(Q(lowered__in=lowered) | Q(pk__in=present))
    folded = {name.casefold() for name in named}
    return [user for user in users if user.pk in present or user.get_username().casefold() in folded]


def mentions_create(*, message: Message, users: list) -> list[int]:
    """Record that `message` mentions `users` (from mentions_find), its author left out; returns
    the ids of the users mentioned. One query (none if nobody is left)."""
    ids = sorted({user.pk for user in users} - {message.author_id})
    Mention.objects.bulk_create(
        Mention(message=message, user_id=user_id, room_id=message.room_id, seq=message.seq) for user_id in ids
    )
    return ids


def mentions_unread(user) -> dict[int, list[int]]:
    """The seqs of the messages mentioning `user` that they have not read (after their read
    marker), by room id, in seq order: for their sidebar. One query."""
    unread = Mention.objects.filter(
        user=user, room__memberships__user=user, seq__gt=F("room__memberships__last_read_seq")
    ).order_by("seq")
    seqs: dict[int, list[int]] = {}
    for room_id, seq in unread.values_list("room_id", "seq"):
        seqs.setdefault(room_id, []).append(seq)
    return seqs


def mentions_of(user) -> QuerySet[Mention]:
    """The mentions of `user` in rooms they may still read (public, or private and theirs), newest
    first, each with its message, room, author and profile (and the message's reactions and
    attachments, two more queries): for the Mentions page. A queryset: paginate it."""
    member = Membership.objects.filter(room=OuterRef("room_id"), user=user)
    return (
        Mention.objects.filter(user=user)
        .filter(Q(room__is_private=False) | Q(Exists(member)))
        .select_related("message__room", "message__author__profile")
        .prefetch_related(
            Prefetch("message__reactions", Reaction.objects.select_related("user__profile").order_by("pk")),
            "message__attachments",
        )
        .order_by("-message_id")
    )
