"""A socket lives no longer than its session: log-out, deactivation and a password change
close it within a second, with a code htmx does not retry; a log-in elsewhere leaves it be."""

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from chat.broadcasts import user_group
from chat.consumers import CLOSE_NOT_AUTHENTICATED
from chat.tests.support import create_room, join, post_barrier

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_in_memory_layer")]


async def assert_ended(socket):
    """The socket says the session ended, then closes with 4001, within a second."""
    status = await socket.receive_from(timeout=1)
    assert 'id="room-status"' in status and "Signed out" in status
    assert await socket.receive_output(timeout=1) == {"type": "websocket.close", "code": CLOSE_NOT_AUTHENTICATED}


@pytest.fixture
def lobby_with_two_sessions_of_ana_and_one_of_bea(make_user):
    """`open_them()`: Lobby, Ana, Bea, Ana's laptop client, and the sockets of Ana's laptop and
    phone sessions and of Bea's, all in Lobby."""

    async def open_them():
        ana = await database_sync_to_async(make_user)("ana")
        bea = await database_sync_to_async(make_user)("bea")
        room = await create_room("Lobby")
        laptop, phone = Client(), Client()
        sockets = (
            await join(room.slug, ana, client=laptop),
            await join(room.slug, ana, client=phone),
            await join(room.slug, bea),
        )
        return room, ana, bea, laptop, sockets

    return open_them


def checks_sent_to(user, layer_events) -> int:
    """How many times `user`'s sockets were told to check their access (`access.check`)."""
    return sum(1 for group, event in layer_events if group == user_group(user.pk) and event["type"] == "access.check")


async def test_logging_out_closes_that_sessions_sockets_only(lobby_with_two_sessions_of_ana_and_one_of_bea):
    room, ana, bea, laptop, (on_laptop, on_phone, beas) = await lobby_with_two_sessions_of_ana_and_one_of_bea()

    response = await database_sync_to_async(laptop.post)("/accounts/logout/")

    assert response.status_code == 302
    await assert_ended(on_laptop)
    barrier = await post_barrier(room, bea)
    for socket in (on_phone, beas):
        assert await socket.frames_before(barrier) == []
        await socket.disconnect()


def deactivate(user) -> None:
    user.is_active = False


def change_password(user) -> None:
    user.set_password("a brand new passphrase")


@pytest.mark.parametrize("change", [deactivate, change_password], ids=["deactivated", "password-changed"])
async def test_deactivating_a_user_or_changing_their_password_closes_all_their_sockets(
    lobby_with_two_sessions_of_ana_and_one_of_bea, layer_events, change
):
    room, ana, bea, _laptop, (on_laptop, on_phone, beas) = await lobby_with_two_sessions_of_ana_and_one_of_bea()

    change(ana)
    await database_sync_to_async(ana.save)()

    await assert_ended(on_laptop)
    await assert_ended(on_phone)
    assert checks_sent_to(ana, layer_events) > 0  # what the log-in test counts is sent
    assert await beas.frames_before(await post_barrier(room, bea)) == []
    await beas.disconnect()


async def test_logging_in_again_elsewhere_leaves_open_sockets_alone(
    lobby_with_two_sessions_of_ana_and_one_of_bea, layer_events
):
    """A log-in only touches last_login: no session ends, and the sockets are not even asked
    to check (a log-in would otherwise cost each of the user's sockets a session read)."""
    room, ana, bea, _laptop, sockets = await lobby_with_two_sessions_of_ana_and_one_of_bea()
    layer_events.clear()

    await database_sync_to_async(Client().force_login)(ana)

    assert checks_sent_to(ana, layer_events) == 0
    barrier = await post_barrier(room, bea)
    for socket in sockets:
        assert await socket.frames_before(barrier) == []
        await socket.disconnect()
