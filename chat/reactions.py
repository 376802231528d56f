"""Reactions on messages: the palette, toggling one, and the message's reaction bar.

The bar (`templates/chat/messages/_reactions.html`, id `reactions-<message pk>`) is rendered
once for every reader: who reacted is in its buttons' `data-users` (user ids), and each
reader's page highlights their own (`chat/room/_reader_style.html`). Its buttons name the room
page's one `reaction-form`, which carries the CSRF token that pushed fragments cannot.
"""

from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from accounts.profiles import display_name

from . import broadcasts, templating, variants
from .latest import log_changed
from .models import Message, Reaction

# The emojis a message can be given, in the bar's order; settings.CHAT_REACTIONS (a sequence of
# strings) replaces them.
DEFAULT_PALETTE = ("👍", "❤️", "😂", "🎉", "😮", "🙏")
REACTIONS_BAR = "chat/messages/_reactions.html"
NAMED = 20  # reactors named in a button's title; "and N more" for the rest
NOT_IN_PALETTE = _("Choose a reaction from the palette.")
ARCHIVED = _("This room is archived: it is read-only.")


def reaction_palette() -> tuple[str, ...]:
    """The emojis offered under every message (settings.CHAT_REACTIONS, else DEFAULT_PALETTE)."""
    return tuple(getattr(settings, "CHAT_REACTIONS", DEFAULT_PALETTE))


class ReactionGroup(NamedTuple):
    """One emoji of a message's bar and who reacted with it: `users` as (id, display name), in
    the order they reacted."""

    emoji: str
    users: list[tuple[int, str]]

    @property
    def count(self) -> int:
        return len(self.users)

    @property
    def user_ids(self) -> str:
        """The reactors' ids between spaces (" 3 7 "), for CSS's `[data-users~="3"]`."""
        return " " + " ".join(str(user_id) for user_id, _name in self.users) + " "

    @property
    def names(self) -> str:
        """The reactors' names, "ana, bea", the first NAMED of them, then how many more."""
        names = ", ".join(name for _id, name in self.users[:NAMED])
        more = self.count - NAMED
        return gettext("%(names)s and %(more)s more") % {"names": names, "more": more} if more > 0 else names


def _stored(message_id: int):
    return Reaction.objects.filter(message_id=message_id).select_related("user__profile").order_by("pk")


def _grouped(reactions) -> list[ReactionGroup]:
    """`reactions` (in the order made) by emoji: the palette's order, then emojis no longer in
    it by first use."""
    by_emoji: dict[str, list] = {}
    for reaction in reactions:
        by_emoji.setdefault(reaction.emoji, []).append((reaction.user_id, display_name(reaction.user)))
    order = {emoji: index for index, emoji in enumerate(reaction_palette())}
    return [ReactionGroup(emoji, by_emoji[emoji]) for emoji in sorted(by_emoji, key=lambda e: order.get(e, len(order)))]


def reaction_groups(message: Message) -> list[ReactionGroup]:
    """`message`'s reactions, grouped by emoji (the palette's order first). No query if they were
    prefetched (selectors.related_load) or `message` is not a stored row (a pushed new
    message: it has none yet); else one."""
    if "reactions" in getattr(message, "_prefetched_objects_cache", {}):
        return _grouped(message.reactions.all())
    return [] if message._state.adding else _grouped(_stored(message.pk))


class ReactionBar(NamedTuple):
    """What a message's bar shows: message `message_id`'s `groups`; the palette follows them
    (palette_html)."""

    message_id: int
    groups: list[ReactionGroup]


REACTION_PALETTE = "chat/messages/_reaction_palette.html"
# A placeholder for the message's id in the palette rendered once per language (palette_html).
_ID_SLOT = "reaction-palette-message-id"
_palettes: dict[tuple[str, tuple[str, ...]], str] = {}


def palette_html(message_id: int) -> str:
    """Message `message_id`'s reaction palette (its buttons, each labelled "React with 👍"), in
    the active language. The palette is the same for every message but for the id its buttons
    send, and every bubble shows it (it was half of a bubble's render): it is rendered once per
    language and palette and process, and the id (an int) put in its slot. Marked safe: it is
    the template's own output, escaped, with no user text in it."""
    key = (get_language() or "", reaction_palette())
    if key not in _palettes:
        labelled = [(emoji, gettext("React with %(emoji)s") % {"emoji": emoji}) for emoji in key[1]]
        _palettes[key] = render_to_string(REACTION_PALETTE, {"palette": labelled, "message_id": _ID_SLOT}).strip()
    return mark_safe(_palettes[key].replace(_ID_SLOT, str(int(message_id))))


# The id of the message in the empty bar rendered once per language (bar_html): an id no
# message reaches, replaced by the bubble's own.
_BAR_SLOT = 999_999_999_999
_empty_bars: dict[tuple[str, tuple[str, ...]], str] = {}


def bar_html(message: Message) -> str:
    """`message`'s reaction bar (REACTIONS_BAR) in the active language, as the bubble shows it;
    no query when its reactions were prefetched or it is new. A bar with no reactions yet (every
    new message's, and most messages') is the same for every message but for its id: rendered
    once per language and palette and process, the id (an int) put in its slot. Marked safe:
    the template's own output, escaped; the only user text, reactors' names, is in a bar with
    reactions, rendered each time."""
    groups = reaction_groups(message)
    if groups:
        return reactions_html(message_id=message.pk, groups=groups)
    key = (get_language() or "", reaction_palette())
    if key not in _empty_bars:
        _empty_bars[key] = reactions_html(message_id=_BAR_SLOT, groups=[])
    return mark_safe(_empty_bars[key].replace(str(_BAR_SLOT), str(int(message.pk))))


def bars_forget() -> None:
    """Forget the empty bars rendered (for tests: translations and templates change between them)."""
    _empty_bars.clear()


def reactions_html(*, message_id: int, groups: list[ReactionGroup]) -> str:
    """Message `message_id`'s bar showing `groups`, with the palette; in the active language.
    Marked safe: the template's output (Jinja2, autoescaped: chat.templating.render)."""
    return mark_safe(templating.render(REACTIONS_BAR, {"bar": ReactionBar(message_id, groups)}).strip())


def _pushed(data: dict) -> str:
    groups = [ReactionGroup(emoji, [tuple(user) for user in users]) for emoji, users in data["groups"]]
    return reactions_html(message_id=data["message"], groups=groups)


# Rendered again from its data for sockets of another language (variants.push_html).
variants.RENDERERS["reactions"] = _pushed


def reactions_push(message_id: int) -> dict:
    """variants.push() of message `message_id`'s bar, as stored now. One query."""
    groups = [[group.emoji, [list(user) for user in group.users]] for group in _grouped(_stored(message_id))]
    return variants.push("reactions", {"message": message_id, "groups": groups})


def reaction_toggle(*, message: Message, user, emoji: str) -> bool:
    """Add `user`'s `emoji` reaction to `message`, or take it back if they had it; True if it is
    now there. Once committed, the message's bar is pushed to its room's page
    (broadcasts.reactions_broadcast).

    The room's kept latest page is read again (chat.latest).

    Raises ValidationError(NOT_IN_PALETTE) for an emoji not in reaction_palette(),
    ValidationError(ARCHIVED) in an archived room, and PermissionDenied if the room does not
    admit `user` (Room.admits: a private room they are not in). Two adds at once (a double
    click, a resend) leave one row (the unique constraint): both return True. Queries: two or
    three (the room's membership for a private room), one more once committed.
    """
    if emoji not in reaction_palette():
        raise ValidationError(NOT_IN_PALETTE)
    room = message.room
    if room.is_archived:
        raise ValidationError(ARCHIVED)
    if not room.admits(user):
        raise PermissionDenied("Only the room's members may react to its messages.")
    with transaction.atomic():
        removed, _counts = Reaction.objects.filter(message=message, user=user, emoji=emoji).delete()
        if not removed:
            try:
                with transaction.atomic():  # a savepoint: the twin's row makes this one fail alone
                    Reaction.objects.create(message=message, user=user, emoji=emoji)
            except IntegrityError:
                pass  # added by a concurrent twin of this request: there, as asked
        transaction.on_commit(lambda: broadcasts.reactions_broadcast(room=room, push=reactions_push(message.pk)))
        log_changed(room.pk)
    return not removed
