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
breaker = Breaker("the variants cache (each process renders what its sockets need)")
_renewed: dict[tuple[int, str], float] = {}  # (room id, variant key) -> monotonic time noted


def _key(room_id: int) -> str:
    return f"chat:variants:{room_id}"


def variant_rooms_enabled() -> bool:
    """Whether sockets may be in other processes than a push's sender (a channel layer that is
    not the in-memory one)."""
    return "InMemory" not in settings.CHANNEL_LAYERS["default"]["BACKEND"]


async def variant_note(*, room_id: int, key: str) -> None:
    """Note that a socket of the variant `key` (Variant.key) is on room `room_id`'s page: on its
    connect and at each sync, written at most every RENEW_SECONDS per process, room and variant.
    Two cache operations when written; nothing raised (the cache away is logged, once)."""
    now = time.monotonic()
    if not variant_rooms_enabled() or now - _renewed.get((room_id, key), -math.inf) < RENEW_SECONDS:
        return
    if len(_renewed) > 10_000:
        _renewed.clear()  # old entries only delay a renewal: forget them all at once
    _renewed[room_id, key] = now
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


def variants_in(room_id: int) -> list[str]:
    """The keys of the variants with a socket on room `room_id`'s page, as the cache has them
    (none when it is away, or with the in-memory layer). One cache read; synchronous: for the
    senders that run in a thread (services, once committed), never on the event loop."""
    if not variant_rooms_enabled() or not breaker.allows():
        return []
    try:
        present = cache.get(_key(room_id)) or {}
    except Exception as error:  # noqa: BLE001 - best effort by design
        breaker.failed(error)
        return []
    breaker.succeeded()
    wall = time.time()
    return [key for key, until in present.items() if until > wall]
