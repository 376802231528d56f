"""Which variants (chat.variants.Variant) have a socket open on each room's page, kept in the shared
cache (settings.CACHES), so that a push's sender renders the push once for each of them.

Without it, each process renders a push again for every variant among its own sockets: with P
processes and V variants in a room, a message costs up to 1 + (V - 1) × P renders. With it, the
sender renders V and the processes none. It is best effort: a variant missing from the list (a
socket opened since, the cache away, two processes noting at once) is rendered by its sockets'
process from the push's data, as before (variants.push_html), so nothing depends on it being
right. With the in-memory channel layer (one process) it is not used: there the sockets' process
is the sender's.
"""

import math
import time

from django.conf import settings
from django.core.cache import cache

from .outages import Breaker

TTL_SECONDS = 120  # an entry not renewed for this long is dropped (its sockets left, or died)
RENEW_SECONDS = 40  # each process renews a room's variant at most this often (sockets sync every 25 s)
HEAL_SECONDS = 1  # and notes it again at most this often when a push shows it missing (variant_heal)
breaker = Breaker("the variants cache (each process renders what its sockets need)")
_renewed: dict[tuple[int, str], float] = {}  # (room id, variant key) -> monotonic time noted
_healed: dict[tuple[int, str], float] = {}  # the same, noted again because a push left it out


def _key(room_id: int) -> str:
    return f"chat:variants:{room_id}"


def variant_rooms_enabled() -> bool:
    """Whether sockets may be in other processes than a push's sender (a channel layer that is
    not the in-memory one)."""
    return "InMemory" not in settings.CHANNEL_LAYERS["default"]["BACKEND"]


async def variant_note(*, room_id: int, key: str, heal: bool = False) -> None:
    """Note that a socket of the variant `key` (Variant.key) is on room `room_id`'s page: on its
    connect and at each sync, written at most every RENEW_SECONDS per process, room and
    variant; with `heal` (a push left the variant out: variant_missed), at most every
    HEAL_SECONDS. Two cache operations when written; nothing raised (the cache away is logged,
    once).

    The write reads the room's entry and writes it back: two notes at once (a room's sockets
    connecting together, in two processes) can lose one: see variant_missed."""
    now = time.monotonic()
    clock, within = (_healed, HEAL_SECONDS) if heal else (_renewed, RENEW_SECONDS)
    if not variant_rooms_enabled() or now - clock.get((room_id, key), -math.inf) < within:
        return
    for times in (_renewed, _healed):
        if len(times) > 10_000:
            times.clear()  # old entries only delay a renewal: forget them all at once
    _renewed[room_id, key] = clock[room_id, key] = now
    if not breaker.allows():
        return
    try:
        present = await cache.aget(_key(room_id)) or {}
        wall = time.time()
        present = {other: until for other, until in present.items() if until > wall}
        present[key] = wall + TTL_SECONDS
        await cache.aset(_key(room_id), present, timeout=TTL_SECONDS)
    except Exception as error:  # noqa: BLE001 - best effort by design (see the module's docstring)
        breaker.failed(error)
        return
    breaker.succeeded()


def variant_missed(event: dict, key: str) -> bool:
    """Whether `event`, a push (variants.push) its sender rendered for the variants the cache
    listed, left out variant `key`: its note was lost (or expired), so the process of a socket
    of `key` renders the push again from its data. That socket then notes its variant again
    (variant_note with `heal`), so that a lost note costs a message or two, not
    RENEW_SECONDS of renders: the bench saw 3.9-4.4 renders a message for three variants in two
    processes, instead of 3. No cost but two lookups."""
    return "rendered" in event and key not in event["rendered"] and event["variant"] != key


def variants_in(room_id: int) -> list[str] | None:
    """The keys of the variants with a socket on room `room_id`'s page, as the cache has them;
    None when that is not known (the cache away) or not needed (the in-memory layer). One cache
    read; synchronous: for the senders that run in a thread (services, once committed), never
    on the event loop (there: variants_in_async)."""
    if not variant_rooms_enabled() or not breaker.allows():
        return None
    try:
        present = cache.get(_key(room_id)) or {}
    except Exception as error:  # noqa: BLE001 - best effort by design
        breaker.failed(error)
        return None
    return _unexpired(present)


async def variants_in_async(room_id: int) -> list[str] | None:
    """variants_in, for a sender on the event loop (a socket's message: chat.messages)."""
    if not variant_rooms_enabled() or not breaker.allows():
        return None
    try:
        present = await cache.aget(_key(room_id)) or {}
    except Exception as error:  # noqa: BLE001 - best effort by design
        breaker.failed(error)
        return None
    return _unexpired(present)


def _unexpired(present: dict) -> list[str]:
    breaker.succeeded()
    wall = time.time()
    return [key for key, until in present.items() if until > wall]
