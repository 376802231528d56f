"""A socket lives no longer than its session: log-out, deactivation and a password change
close it within a second, with a code htmx does not retry."""

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from chat.consumers import CLOSE_NOT_AUTHENTICATED
from chat.rooms import room_get_or_create
from chat.tests.support import join

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_in_memory_layer")]


async def assert_ended(socket):
    """The socket says the session ended, then closes with 4001, within a second."""
    status = await socket.receive_from(timeout=1)
    assert 'id="room-status"' in status and "Signed out" in status
    assert await socket.receive_output(timeout=1) == {"type": "websocket.close", "code": CLOSE_NOT_AUTHENTICATED}


@pytest.fixture
def two_sessions_of_ana_and_one_of_bea(make_user):
    async def open_them():
        ana = await database_sync_to_async(make_user)("ana")
        bea = await database_sync_to_async(make_user)("bea")
        room = (await database_sync_to_async(room_get_or_create)(name="Lobby"))[0]
        laptop, phone = Client(), Client()
        sockets = (
            await join(room.slug, ana, client=laptop),
            await join(room.slug, ana, client=phone),
            await join(room.slug, bea),
        )
        return ana, laptop, sockets

    return open_them


async def test_logging_out_closes_that_sessions_sockets_only(two_sessions_of_ana_and_one_of_bea):
    ana, laptop, (on_laptop, on_phone, beas) = await two_sessions_of_ana_and_one_of_bea()

    response = await database_sync_to_async(laptop.post)("/accounts/logout/")

    assert response.status_code == 302
    await assert_ended(on_laptop)
    assert await on_phone.receive_nothing(timeout=0.3)
    assert await beas.receive_nothing(timeout=0.1)
    await on_phone.disconnect()
    await beas.disconnect()


async def test_deactivating_a_user_closes_all_their_sockets(two_sessions_of_ana_and_one_of_bea):
    ana, _laptop, (on_laptop, on_phone, beas) = await two_sessions_of_ana_and_one_of_bea()

    ana.is_active = False
    await database_sync_to_async(ana.save)()

    await assert_ended(on_laptop)
    await assert_ended(on_phone)
    assert await beas.receive_nothing(timeout=0.3)
    await beas.disconnect()


async def test_changing_the_password_closes_the_users_sockets(two_sessions_of_ana_and_one_of_bea):
    ana, _laptop, (on_laptop, on_phone, beas) = await two_sessions_of_ana_and_one_of_bea()

    ana.set_password("a brand new passphrase")
    await database_sync_to_async(ana.save)()

    await assert_ended(on_laptop)
    await assert_ended(on_phone)
    assert await beas.receive_nothing(timeout=0.3)
    await beas.disconnect()


async def test_logging_in_again_elsewhere_leaves_open_sockets_alone(two_sessions_of_ana_and_one_of_bea):
    """A log-in only touches last_login: no session ends."""
    ana, _laptop, (on_laptop, on_phone, beas) = await two_sessions_of_ana_and_one_of_bea()

    await database_sync_to_async(Client().force_login)(ana)

    assert await on_laptop.receive_nothing(timeout=0.3)
    for socket in (on_laptop, on_phone, beas):
        await socket.disconnect()
