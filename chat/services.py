"""Everything that changes chat state goes through these functions (HackSoft's `<entity>_<action>`).

Consumers and views validate user input with forms, then call a service; the service saves and,
only after the database commits, broadcasts (Zulip's `send_event_on_commit`): nothing is ever
pushed that was not saved.
"""

import secrets
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, PositiveBigIntegerField, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify

from .forms import MessageForm
from .models import Membership, Message, Room

MESSAGES_APPEND_PARTIAL = "chat/room_detail.html#messages-append"
ROOM_CHANGED_PARTIAL = "chat/room_detail.html#room-changed"
ARCHIVED = "This room is archived: it is read-only."
STILL_SENDING = "Your previous message was still being sent: send this one again."
# Slugs that are other pages' paths under /chat/ (chat/urls.py).
RESERVED_SLUGS = {"direct"}
# The most people a direct conversation may have, its starter included (Slack's is 9).
DIRECT_MAX_PEOPLE = 9


def _room_slug_available(name: str) -> str:
    """A slug for a new room named `name` that no room has yet: ASCII, at most 50 characters.

    Accents are folded to ASCII by Django's `slugify` ("Café año" -> "cafe-ano"); a name with no
    ASCII letters left (emoji only) becomes "room"; a taken slug, or one that names another
    page under /chat/ (RESERVED_SLUGS), gets "-2", "-3"...
    """
    base = slugify(name)[: Room.SLUG_MAX_LENGTH - 6].strip("-") or "room"
    taken = set(Room.objects.filter(slug__startswith=base).values_list("slug", flat=True)) | RESERVED_SLUGS
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def room_get_or_create(*, name: str, creator: AbstractBaseUser | None = None) -> tuple[Room, bool]:
    """Return `(room, created)` for the public room called `name`, creating it (by `creator`)
    if it is new.

    `name` must already be valid (non-blank, at most Room.NAME_MAX_LENGTH characters). Names
    match whatever their case, accents composed or not, and spacing (`Room.key_for`). Two
    requests creating the same name at once get the same room: the loser of the race hits the
    unique constraint and reads the winner's row.
    """
    name = Room.normalize_name(name)
    for _attempt in range(3):
        room = Room.objects.filter(name_key=Room.key_for(name)).first()
        if room is not None:
            return room, False
        try:
            with transaction.atomic():
                return Room.objects.create(name=name, slug=_room_slug_available(name), created_by=creator), True
        except IntegrityError:
            continue  # Someone took the name or the slug in between: look again.
    raise IntegrityError(f"Could not create a room named {name!r}")


def room_create_private(*, name: str, creator: AbstractBaseUser) -> Room:
    """Create a private room called `name` (names of private rooms need not be unique), with
    `creator` as its first member. `name` must already be valid, as for room_get_or_create."""
    name = Room.normalize_name(name)
    for _attempt in range(3):
        try:
            with transaction.atomic():
                room = Room.objects.create(
                    name=name, slug=_room_slug_available(name), is_private=True, created_by=creator
                )
                Membership.objects.create(room=room, user=creator)
                return room
        except IntegrityError:
            continue  # The slug was taken in between: pick another.
    raise IntegrityError(f"Could not create a private room named {name!r}")


def rooms_visible_to(user: AbstractBaseUser) -> QuerySet[Room]:
    """The rooms `user` may see and open: every public room, and the private ones they are in."""
    member = Membership.objects.filter(room=OuterRef("pk"), user=user)
    return Room.objects.filter(Q(is_private=False) | Q(Exists(member)))


def membership_join(*, room: Room, user: AbstractBaseUser) -> Membership:
    """`user`'s membership of `room`, joining it if it is public (opening a public room joins
    it). Raises PermissionDenied for a private room they are not a member of."""
    if room.is_private:
        membership = Membership.objects.filter(room=room, user=user).first()
        if membership is None:
            raise PermissionDenied("Only members can enter a private room.")
        return membership
    membership, created = Membership.objects.get_or_create(room=room, user=user)
    if created:
        transaction.on_commit(lambda: sidebar_refresh(user_id=user.pk))
    return membership


def room_may_enter(*, room: Room, user: AbstractBaseUser) -> bool:
    """Whether `user` may open `room`: anyone a public room, members a private one."""
    return not room.is_private or Membership.objects.filter(room=room, user=user).exists()


def membership_mark_read(*, room: Room, user: AbstractBaseUser, seq: int) -> None:
    """Record that `user` has read `room` up to message `seq` (never moving the marker back).
    One UPDATE; nothing if they are not a member. If the marker moved, once committed, the
    user's open sockets are told (`membership.read`), so that every tab's sidebar agrees."""
    if Membership.objects.filter(room=room, user=user, last_read_seq__lt=seq).update(last_read_seq=seq):
        event = {"type": "membership.read", "room": room.pk, "seq": seq}
        transaction.on_commit(lambda: async_to_sync(_group_send)(user_group_name(user.pk), event))


def rooms_with_unread(user: AbstractBaseUser) -> QuerySet[Room]:
    """rooms_visible_to(`user`), each annotated with `unread`: how many of its messages came
    after `user`'s last-read marker (0 where they are not a member). Computed on read, in the
    same query: posting a message costs nothing per member."""
    last_read = Membership.objects.filter(room=OuterRef("pk"), user=user).values("last_read_seq")[:1]
    return rooms_visible_to(user).annotate(
        unread=Coalesce(F("last_seq") - Subquery(last_read), Value(0), output_field=PositiveBigIntegerField())
    )


def room_titles_set(*, rooms: list[Room], reader: AbstractBaseUser) -> list[Room]:
    """Set `room.title` on each of `rooms`, as `reader` sees it: a room's name, or for a direct
    conversation the names of its other people ("bea, cy"). One query if any is direct."""
    direct = [room.pk for room in rooms if room.is_direct]
    others: dict[int, list[str]] = {}
    if direct:
        rows = (
            Membership.objects.filter(room__in=direct).exclude(user=reader)
            .order_by("user__username").values_list("room_id", "user__username")
        )
        for room_id, username in rows:
            others.setdefault(room_id, []).append(username)
    for room in rooms:
        room.title = ", ".join(others.get(room.pk, [])) or room.name
    return rooms


def rooms_for_sidebar(user: AbstractBaseUser) -> list[Room]:
    """The rooms `user` is a member of, for their sidebar: rooms by name, then direct
    conversations by title. Each room carries `last_read_seq` (the user's marker), `unread`
    (how many messages came after it) and `title` (room_titles_set). One or two queries."""
    memberships = Membership.objects.filter(user=user).select_related("room")
    rooms = []
    for membership in memberships:
        room = membership.room
        room.last_read_seq = membership.last_read_seq
        room.unread = max(room.last_seq - membership.last_read_seq, 0)
        rooms.append(room)
    room_titles_set(rooms=rooms, reader=user)
    return sorted(rooms, key=lambda room: (room.is_direct, room.title.casefold(), room.pk))


def sidebar_refresh(*, user_id: int) -> None:
    """Ask every open socket of user `user_id` to re-read and re-send its sidebar: call after
    their memberships changed (a room joined, an invitation, a new direct conversation)."""
    async_to_sync(_group_send)(user_group_name(user_id), {"type": "sidebar.refresh"})


def room_get_or_create_direct(*, starter: AbstractBaseUser, usernames: list[str]) -> tuple[Room, bool]:
    """Return `(room, created)`: the direct conversation between `starter` and the active users
    called `usernames` (exact usernames; `starter`'s own is ignored), created if it is new.

    There is exactly one conversation per set of people, whoever starts it (the unique
    `direct_key`; two people starting it at once get the same room). It behaves as a private
    room whose members are those people. Raises ValidationError if a username is unknown, if
    no one else is named, or if the set has more than DIRECT_MAX_PEOPLE people. Once
    committed, every member's open sockets add it to their sidebar.
    """
    names = {name for name in usernames if name} - {starter.get_username()}
    others = list(get_user_model().objects.filter(username__in=names, is_active=True))
    unknown = sorted(names - {other.get_username() for other in others})
    if unknown:
        raise ValidationError(f"There is no one called {', '.join(unknown)}.")
    if not others:
        raise ValidationError("Name at least one other person to talk to.")
    people = sorted([starter, *others], key=lambda person: person.pk)
    if len(people) > DIRECT_MAX_PEOPLE:
        raise ValidationError(f"A direct conversation has at most {DIRECT_MAX_PEOPLE} people.")
    key = ",".join(str(person.pk) for person in people)
    name = ", ".join(sorted(person.get_username() for person in people))[: Room.NAME_MAX_LENGTH]
    for _attempt in range(3):
        room = Room.objects.filter(direct_key=key).first()
        if room is not None:
            return room, False
        try:
            with transaction.atomic():
                # A random slug: a conversation's URL does not say who is in it.
                room = Room.objects.create(
                    name=name, slug=f"dm-{secrets.token_hex(6)}", is_private=True, direct_key=key,
                    created_by=starter,
                )
                Membership.objects.bulk_create(Membership(room=room, user=person) for person in people)
                for person in people:
                    transaction.on_commit(lambda user_id=person.pk: sidebar_refresh(user_id=user_id))
                return room, True
        except IntegrityError:
            continue  # Someone started the same conversation in between: read theirs.
    raise IntegrityError(f"Could not start a conversation for {key}")


def room_update(*, room: Room, editor: AbstractBaseUser, name: str, description: str) -> Room:
    """Rename `room` and set its description, at the request of `editor`, who must be its
    creator or staff (PermissionDenied otherwise, and for direct conversations, whose name is
    their people, and archived rooms, which are read-only).

    `name` must already be valid (as for room_get_or_create); the slug, and so every link and
    open socket, stays. Raises ValidationError (on "name") if another public room already has
    that name. Once committed, the room's open pages get the new header and its members'
    sidebars the new name.
    """
    if room.is_direct or room.is_archived or not (editor.is_staff or editor.pk == room.created_by_id):
        raise PermissionDenied("Only the room's creator or staff can change its settings.")
    room.name, room.description = name, description
    try:
        with transaction.atomic():
            room.save(update_fields=["name", "name_key", "description"])
    except IntegrityError:
        raise ValidationError({"name": f"There is already a room called {Room.normalize_name(name)}."}) from None
    transaction.on_commit(lambda: room_changed_broadcast(room=room))
    return room


def room_archive(*, room: Room, archived: bool = True) -> Room:
    """Archive `room` (read-only: no one can post; its history stays) or, with `archived`
    False, restore it. For moderators: the admin's actions call it. Once committed, the room's
    open pages show the change (the composer gives way to a notice) and its members'
    sidebars mark it."""
    room.archived_at = timezone.now() if archived else None
    room.save(update_fields=["archived_at"])
    transaction.on_commit(lambda: room_changed_broadcast(room=room, composer=True))
    return room


def room_changed_broadcast(*, room: Room, composer: bool = False) -> None:
    """Push `room`'s header (and, if `composer`, its composer), rendered once, to its members'
    sockets (`room.changed`): the pages open on it swap them in, and every member's sidebar
    re-reads it. A fresh composer clears what people were typing: send it only when the room's
    archived state changed. Call from synchronous code, after the change is committed."""
    room.title = room.name
    context = {"room": room, "form": MessageForm(), "composer": composer}
    html = render_to_string(ROOM_CHANGED_PARTIAL, context)
    async_to_sync(_group_send)(room.members_group_name, {"type": "room.changed", "room": room.pk, "html": html})


def membership_invite(*, room: Room, inviter: AbstractBaseUser, username: str) -> Membership:
    """Add the user called `username` to `room`, at the request of `inviter`, who must be a
    member (PermissionDenied otherwise, and for a direct conversation, whose people are fixed:
    start another one). Raises ValidationError if there is no such user or they are already a
    member. Once committed, the invitee's open sockets add the room to their sidebar."""
    if room.is_direct:
        raise PermissionDenied("A direct conversation's people are fixed: start a new one to add someone.")
    if not Membership.objects.filter(room=room, user=inviter).exists():
        raise PermissionDenied("Only members can invite people to this room.")
    invitee = get_user_model().objects.filter(username=username, is_active=True).first()
    if invitee is None:
        raise ValidationError(f"There is no one called {username!r}.")
    membership, created = Membership.objects.get_or_create(room=room, user=invitee)
    if not created:
        raise ValidationError(f"{username} is already a member.")
    transaction.on_commit(lambda: sidebar_refresh(user_id=invitee.pk))
    return membership


def membership_remove(*, room: Room, remover: AbstractBaseUser, user: AbstractBaseUser) -> None:
    """Remove `user` from `room`. Allowed to the room's creator and to staff, and to `user`
    themselves (leaving); PermissionDenied otherwise. Once committed, the removed user's open
    sockets re-check their access: on a private room they close with 4003 within a second; the
    others drop it from their sidebar. Direct conversations cannot be left (PermissionDenied):
    their set of people is what they are."""
    if room.is_direct:
        raise PermissionDenied("No one can leave or be removed from a direct conversation.")
    if not (remover.pk == user.pk or remover.is_staff or remover.pk == room.created_by_id):
        raise PermissionDenied("Only the room's creator or staff can remove members.")
    with transaction.atomic():
        Membership.objects.filter(room=room, user=user).delete()
        transaction.on_commit(lambda: user_sockets_check(user_id=user.pk))
        transaction.on_commit(lambda: sidebar_refresh(user_id=user.pk))


def _flag_new_days(messages: list[Message], previous_day=None) -> list[Message]:
    """Set `message.new_day` on each of `messages` (in seq order): True where its day (site time
    zone) differs from the message before it, the first one compared with `previous_day`."""
    for message in messages:
        message.new_day = message.day != previous_day
        previous_day = message.day
    return messages


def message_history(*, room: Room, limit: int | None = None) -> list[Message]:
    """The latest `limit` messages of `room` (default settings.CHAT_HISTORY_LIMIT), oldest first,
    each flagged `new_day` where a day separator goes before it (the first always).

    One query, authors joined; uses the (room, seq) index.
    """
    limit = settings.CHAT_HISTORY_LIMIT if limit is None else limit
    latest = room.messages.select_related("author").order_by("-seq")[:limit]
    return _flag_new_days(list(reversed(latest)))


def messages_before(*, room: Room, before: int, limit: int | None = None) -> list[Message]:
    """The `limit` messages of `room` just before seq `before` (default
    settings.CHAT_HISTORY_LIMIT), oldest first, flagged `new_day` (the first always): a page of
    older history. One query on the (room, seq) unique index."""
    limit = settings.CHAT_HISTORY_LIMIT if limit is None else limit
    older = room.messages.select_related("author").filter(seq__lt=before).order_by("-seq")[:limit]
    return _flag_new_days(list(reversed(older)))


def messages_missed(*, room: Room, after: int, limit: int | None = None) -> tuple[list[Message], bool]:
    """What a reader who has `room`'s messages up to seq `after` is missing: `(messages, replace)`.

    Normally the messages with seq > `after`, oldest first, flagged `new_day` against the
    reader's last one, and `replace` False: append them. If more than `limit` (default
    settings.CHAT_HISTORY_LIMIT) are missing, the latest history instead, and `replace` True:
    the reader's log should be replaced by it. One or two indexed queries.
    """
    limit = settings.CHAT_HISTORY_LIMIT if limit is None else limit
    rows = list(
        room.messages.select_related("author")
        .filter(seq__gte=max(after, 1))
        .order_by("seq")[: limit + 2]
    )
    previous_day = rows.pop(0).day if rows and rows[0].seq == after else None
    if len(rows) > limit:
        return message_history(room=room, limit=limit), True
    return _flag_new_days(rows, previous_day), False


def message_create(
    *, room: Room, author: AbstractBaseUser, body: str, client_key: uuid.UUID | None = None
) -> Message:
    """Save a message by `author` in `room` and, once committed, push it to the room's group.

    `body` is validated again here (non-blank, at most Message.BODY_MAX_LENGTH characters) and
    raises `django.core.exceptions.ValidationError` if invalid; nothing is saved or sent then.
    The message takes the room's next `seq` under the room row's lock, so seq order is commit
    order; an archived room raises ValidationError(ARCHIVED). The author's read marker moves
    to their own message (one's own messages are never unread). If `author` already sent a
    message with this `client_key` (a resend), that message is returned and nothing new is
    saved or sent; if that message's text differs (a second message sent from the same
    composer before its reset arrived), ValidationError(STILL_SENDING). Database errors
    (`django.db.DatabaseError`) propagate, with nothing sent.
    """
    message = Message(room=room, author=author, body=body, client_key=client_key, created_at=timezone.now())
    # The room and author are objects in hand: skip full_clean's query for each foreign key.
    message.full_clean(exclude=["seq", "room", "author"], validate_constraints=False)
    try:
        with transaction.atomic():
            locked = Room.objects.select_for_update().only("last_seq", "last_message_at", "archived_at").get(
                pk=room.pk
            )
            if locked.archived_at is not None:
                raise ValidationError(ARCHIVED)
            message.seq = locked.last_seq + 1
            previous = locked.last_message_at
            message.new_day = previous is None or timezone.localdate(previous) != message.day
            message.save()
            Room.objects.filter(pk=room.pk).update(last_seq=message.seq, last_message_at=message.created_at)
            Membership.objects.filter(room=room, user=author).update(last_read_seq=message.seq)
            transaction.on_commit(lambda: message_broadcast(message=message))
    except IntegrityError:
        if client_key is not None:
            sent = Message.objects.filter(author=author, client_key=client_key).first()
            if sent is not None and sent.body == message.body:
                return sent
            if sent is not None:
                # The same composer with other text: a second message typed before the first
                # one's reset came back. Refused, so that it is not taken for a resend and lost.
                raise ValidationError(STILL_SENDING) from None
        raise
    return message


def message_broadcast(*, message: Message) -> None:
    """Render `message` once as an out-of-band fragment and send it to its room's members.

    `message.new_day` (set by message_create) says whether a day separator goes before it. The
    event is `{"type": "chat.message", "room": room id, "seq": …, "author": user id, "html": …}`
    to the room's members group: a socket on the room's page appends the fragment (which also
    moves the reader's cursor to its seq); a member's socket on another page only moves that
    room's unread count in its sidebar. Every member receives the same text: what differs per
    reader ("mine" or "theirs") is styled by the reader's page, so fan-out costs no render or
    query per recipient. Call it from synchronous code, after the message is committed.
    """
    html = render_to_string(MESSAGES_APPEND_PARTIAL, {"messages": [message], "cursor": message.seq})
    event = {"type": "chat.message", "room": message.room_id, "seq": message.seq, "author": message.author_id, "html": html}
    async_to_sync(_group_send)(message.room.members_group_name, event)


def user_group_name(user_id: int) -> str:
    """The channel-layer group holding every open socket of one user."""
    return f"user.{user_id}"


def user_sockets_check(*, user_id: int) -> None:
    """Ask every open socket of user `user_id` to check its session and its room access, and
    close if either ended.

    Call after the change is committed (a log-out's session flush, a deactivation, a password
    change, a removal from a room). The sockets close (4001 session ended, 4003 no longer a
    member) within the channel layer's delivery time.
    """
    async_to_sync(_group_send)(user_group_name(user_id), {"type": "access.check"})


async def _group_send(group: str, event: dict) -> None:
    # The layer is looked up inside the event loop: the Redis pub/sub layer keeps one
    # connection per loop and cannot be touched from synchronous code.
    await get_channel_layer().group_send(group, event)
