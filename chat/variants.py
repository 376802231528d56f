"""Each reader's variant (language × time zone), and pushes rendered once per variant, not per reader.

A socket's variant is decided once, at connect (chat.variant_choice). The socket renders
whatever is its own in that variant.

A push to a group is rendered once by its sender, in the site's default variant, and in each
other variant its room's page has (chat.variant_rooms, with Redis). It carries the plain data
it was rendered from too (`again`: one JSON string, which the in-memory layer's copy per socket
and Redis's msgpack pass as one value): a socket of a variant the sender did not render renders
it from that data, without a query, once per variant and process (a memo: `push_html`). A new
message sent from a socket with the in-memory layer is rendered for every variant on the room's
page (its process's hub has every socket) and carries no data: a socket left out reads it from
the database, as a gap. So a push is never rendered once per recipient, and a message's day
separator and grouping are worked out again in each reader's time zone. See docs/architecture.md, "Variants".
"""

import copy
import dataclasses
import datetime
import functools
import json
import uuid

from django.contrib.auth import get_user_model
from django.db import models

from accounts.models import Profile
from accounts.profiles import display_name

from . import attachments, fragments
from .models import Message, Room
from .presence import Present
from .selectors import LogLine, related_restore
from .variant_choice import Variant, active, default_variant, socket_variant, variant_choose  # noqa: F401 - used as variants.*
from .variant_rooms import variants_in

# Pushes rendered again for a variant in this process, the oldest forgotten past this many: its
# sockets take a push within milliseconds of each other, and the bound keeps memory flat.
MEMO_SIZE = 1024
_memo: dict[tuple[str, "Variant"], str] = {}


# A push's data: model instances as their columns (datetimes and UUIDs as strings), users as
# [id, username, display name]. Rebuilt instances are never saved: they only fill templates.
def _instance_data(instance: models.Model) -> dict:
    data, values = {}, instance.__dict__  # a deferred column (not in it) would cost a query
    for attname in _attnames(type(instance)):
        if attname in values:
            value = values[attname]
            if isinstance(value, uuid.UUID):
                value = str(value)
            elif isinstance(value, datetime.date | datetime.time):
                value = value.isoformat()
            data[attname] = value
    return data


@functools.cache
def _attnames(model: type[models.Model]) -> tuple[str, ...]:
    return tuple(field.attname for field in model._meta.concrete_fields)


def _instance_from(model: type[models.Model], data: dict) -> models.Model:
    fields = {field.attname: field for field in model._meta.concrete_fields}
    return model(**{name: None if value is None else fields[name].to_python(value) for name, value in data.items()})


def _user_data(user) -> list:
    return [user.pk, user.get_username(), display_name(user)]


def _user_from(data: list):
    user = get_user_model()(pk=data[0], username=data[1])
    user.profile = Profile(display_name=data[2])  # the template's display_name reads it, no query
    return user


def _time(value: datetime.datetime | None) -> str | None:
    return value and value.isoformat()


def _line_from(data: dict) -> LogLine:
    """The pushed message as a log line told in the active time zone: its day separator and
    grouping against the message before it, as selectors.LogLine.after."""
    message = _instance_from(Message, data["message"])
    message.room, message.author = _instance_from(Room, data["room"]), _user_from(data["author"])
    attachments.attachments_restore(message, data.get("attachments", []))
    at = data["previous_at"] and datetime.datetime.fromisoformat(data["previous_at"])
    return LogLine.after(message, author_id=data["previous_author_id"], at=at)


# How each kind of push is rendered from its data, in the active variant.
RENDERERS = {
    "message": lambda data: fragments.messages_append(lines=[_line_from(data)], cursor=data["message"]["seq"]),
    "typing": lambda data: fragments.typing(typist=data["typist"]),
    "presence": lambda data: fragments.presence(
        shown=None if data["shown"] is None else [Present(*present) for present in data["shown"]], total=data["total"]
    ),
    "room": lambda data: fragments.room_changed(room=_instance_from(Room, data["room"]), composer=data["composer"]),
    "members": lambda data: fragments.members_changed(
        room=_instance_from(Room, data["room"]),
        members=[_user_from(member) for member in data["members"]],
        members_count=data["count"],
        online_ids=data["online"],
    ),
}


def push(kind: str, data: dict | None, *, render=None, present: list[str] | None = None, again: bool = True) -> dict:
    """The fields a group event carries for a push of `kind` (a key of RENDERERS) made from
    `data` (JSON-able): `html`, rendered here in the site's default variant (whatever the caller
    has active: a poster's language never leaks to others; by `render()`, if given, which must
    give what RENDERERS[kind](data) would in the active variant, from objects in hand), the
    `variant` it is in (its key), with `again`, the JSON of kind, data and a key unique to this
    push, for the sockets of other variants (push_html), and with `present` (the variants on the
    room's page, as variant_rooms.variants_in or variants_in_async read them), `rendered`: the
    push in each of those other than the default (chat.variant_rooms). Without `again` (`data`
    then unused), a socket of a variant left out has nothing to render: push_readable."""
    variant = default_variant()
    render = render or (lambda: RENDERERS[kind](data))
    with variant.active():
        html = render()
    fields = {"html": html, "variant": variant.key}
    if again:
        fields["again"] = json.dumps({"kind": kind, "key": uuid.uuid4().hex, "data": data}, separators=(",", ":"))
    if present is not None:
        fields["rendered"] = {}  # even empty: a socket left out notes its variant again (variant_missed)
        for key in present:
            if key != variant.key:
                with Variant(*key.split(" ", 1)).active():
                    fields["rendered"][key] = render()
    return fields


def message_data(line: LogLine, name: str) -> dict:
    """What a socket needs to render `line`'s message again in another variant, with no query:
    the message (without its composer key), its room, its author as [id, username, display
    name `name`], its attachments, and what it was grouped against. No query when its
    attachments are loaded (attachments.attachments_data)."""
    message = line.message
    author = message.author
    data = {
        "message": _instance_data(message),
        "room": _instance_data(message.room),
        "author": [author.pk, author.get_username(), name],
        "attachments": attachments.attachments_data(message),
    }
    data["message"].pop("client_key", None)  # the sender's composer key: no one else's business
    data.update(previous_author_id=line.previous_author_id, previous_at=_time(line.previous_at))
    return data


def message_push(line: LogLine, *, name: str, present: list[str] | None, again: bool = True) -> dict:
    """push() of a new message (`line`, as selectors.LogLine.after made it: message_data, made
    only with `again`), its author's display name `name`, for the variants `present` (as
    push()'s): each told against the message before it in its own time zone. No query."""

    def render() -> str:
        from . import bubbles  # which imports reactions, which registers in RENDERERS: imported by then

        # The line as the active variant tells it (its day separator, its group), not as the
        # poster's did: the same two messages can be a day apart in one zone and not in another.
        told = LogLine.after(line.message, author_id=line.previous_author_id, at=line.previous_at)
        html = bubbles.fresh_line_html(told, name=name)  # None: more than a shell shows
        if html is not None:
            return fragments.messages_append(lines_html=html, cursor=line.message.seq)
        return fragments.messages_append(lines=[_line_shown(told, name)], cursor=line.message.seq, fresh=True)

    data = message_data(line, name) if again else None
    return push("message", data, render=render, present=present, again=again)


def _line_shown(line: LogLine, name: str) -> LogLine:
    """`line` (a new message's, told in the active variant: its day and group) as
    _line_from(its data) would make it, from the objects in hand rather than rebuilt from the
    data (a sixth of a message's server CPU): with a copy of its message, with no reactions yet
    and its attachments as restored, whose author (a copy: a socket's user lives long) shows
    display name `name`. No query."""
    message = copy.copy(line.message)
    message.__dict__["_prefetched_objects_cache"] = dict(getattr(line.message, "_prefetched_objects_cache", {}))
    related_restore(message, "reactions", [])
    message.author = copy.copy(line.message.author)
    message.author.profile = Profile(display_name=name)
    return dataclasses.replace(line, message=message)


def presence_push(*, shown: list | None, total: int) -> dict:
    """push() of who is online (fragments.presence's arguments)."""
    shown_data = None if shown is None else [[p.username, p.user_id, p.name] for p in shown]
    return push("presence", {"shown": shown_data, "total": total})


def room_push(*, room: Room, composer: bool) -> dict:
    """push() of a room's header, and its composer if `composer` (fragments.room_changed)."""
    return push("room", {"room": _instance_data(room), "composer": composer}, present=variants_in(room.pk))


def members_push(*, room: Room, members: list, members_count: int, online_ids: list[int]) -> dict:
    """push() of a room's member list (fragments.members_changed); `members` with their profiles
    loaded (selectors.room_members), so no query."""
    members_data = [_user_data(member) for member in members]
    data = {"room": _instance_data(room), "members": members_data, "count": members_count, "online": online_ids}
    return push("members", data, present=variants_in(room.pk))


def push_readable(event: dict, variant: Variant | None) -> bool:
    """Whether push_html can give `event` (made by push()) for a socket of `variant`: it was
    rendered for it, or carries `again` to render it from."""
    if variant is None or event["variant"] == variant.key or "again" in event:
        return True
    return variant.key in event.get("rendered", ())


def push_html(event: dict, variant: Variant | None) -> str:
    """The bytes of the pushed `event` (made by push(); push_readable for `variant`) for a socket
    of `variant` (None: the site's): the event's own html in its variant, or as its sender
    rendered it for `variant`, else rendered again from its data, once per variant and process (a
    memo of the MEMO_SIZE latest)."""
    if variant is None or event["variant"] == variant.key:
        return event["html"]
    html = event.get("rendered", {}).get(variant.key)
    if html is not None:
        return html
    key = (event["again"], variant)
    html = _memo.get(key)
    if html is None:
        again = json.loads(event["again"])
        with variant.active():
            html = RENDERERS[again["kind"]](again["data"])
        _memo[key] = html
        if len(_memo) > MEMO_SIZE:
            del _memo[next(iter(_memo))]
    return html
