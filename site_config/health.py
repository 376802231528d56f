"""`/healthz`: is this process able to serve chat? For load balancers and orchestrators."""

import asyncio
import logging
import uuid

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import JsonResponse

logger = logging.getLogger(__name__)


# One reply channel per process and layer for layer_round_trip: a new channel for each check would
# leave a subscription behind on the pub/sub layer.
_reply_channels: dict[int, str] = {}


async def layer_round_trip() -> None:
    """Send a message to this process's own reply channel and receive it back (for /healthz).
    Raises whatever the layer raises; the caller bounds the wait. A check that did not finish
    forgets its channel: the pub/sub layer drops a channel whose receive was cancelled, and one
    made after Redis came back is subscribed afresh. Not behind the breaker: it is the probe."""
    layer = get_channel_layer()
    channel = _reply_channels.get(id(layer))
    if channel is None:
        channel = _reply_channels[id(layer)] = await layer.new_channel("healthz.")
    token = uuid.uuid4().hex
    try:
        await layer.send(channel, {"type": "healthz.ping", "token": token})
        while (await layer.receive(channel)).get("token") != token:
            pass  # a reply to an earlier check: skip it
    except BaseException:
        _reply_channels.pop(id(layer), None)
        raise


def _database_ping() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        connection.close()  # This runs on a pool thread: leave no connection on it.


async def _check(part: str, awaitable) -> str:
    """ "ok" or "failed"; why it failed goes to the log, not to whoever polls /healthz (the
    exception text can carry addresses and names of the servers behind)."""
    timeout = settings.HEALTHZ_TIMEOUT_SECONDS
    try:
        async with asyncio.timeout(timeout):  # not wait_for: it can swallow a cancel (py 3.11)
            await awaitable
    except TimeoutError:
        logger.warning("healthz: %s failed: no answer within %g s", part, timeout)
        return "failed"
    except Exception:  # noqa: BLE001 - any failure is the answer here
        logger.warning("healthz: %s failed", part, exc_info=True)
        return "failed"
    return "ok"


async def healthz(request):
    """200 if the database answers `SELECT 1` and a message sent on the channel layer comes
    back, each within settings.HEALTHZ_TIMEOUT_SECONDS; otherwise 503. The JSON body names each
    part's state and nothing more: `{"status": "failing", "database": "ok", "channel_layer":
    "failed"}`; the reason is logged as a warning (logger `site_config.health`). Costs one query
    and one round trip.
    """
    database, channel_layer = await asyncio.gather(
        _check("database", sync_to_async(_database_ping, thread_sensitive=False)()),
        _check("channel_layer", layer_round_trip()),
    )
    healthy = database == channel_layer == "ok"
    return JsonResponse(
        {"status": "ok" if healthy else "failing", "database": database, "channel_layer": channel_layer},
        status=200 if healthy else 503,
    )
