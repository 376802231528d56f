"""The chat without JavaScript (a POST composer, whole pages of older history), styled error
pages that leak nothing, and sidebars that say what to do while empty."""

import uuid

import pytest
from django.test import Client

from chat.models import Membership, Message
from chat.rooms import room_create_private, room_get_or_create
from chat.tests.support import add_message, logged_in

# Posting saves on the thread pool, another connection: the tests' rows must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


def test_without_javascript_the_composer_posts_to_the_room_and_comes_back(make_user):
    """A POST with the CSRF token stores the message through the same service, joins a public
    room, and redirects to the room, which shows it; the text is never in a URL."""
    ana = make_user("ana")
    room_get_or_create(name="Lobby")
    client = Client(enforce_csrf_checks=True)
    client.force_login(ana)
    page = client.get("/chat/lobby/").content.decode()
    assert 'method="post" action="/chat/lobby/messages/"' in page
    token = client.cookies["csrftoken"].value
    key = str(uuid.uuid4())
    response = client.post("/chat/lobby/messages/", {"message": "sin JS", "key": key, "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response["Location"] == "/chat/lobby/" and "sin" not in response["Location"]
    assert list(Message.objects.values_list("body", flat=True)) == ["sin JS"]
    assert Membership.objects.filter(room__slug="lobby", user=ana).exists()
    assert ">sin JS<" in client.get("/chat/lobby/").content.decode()
    client.post("/chat/lobby/messages/", {"message": "sin JS", "key": key, "csrfmiddlewaretoken": token})
    assert Message.objects.count() == 1  # the same form sent again (a reload): stored once


def test_without_javascript_a_refused_message_comes_back_with_its_error_and_text(make_user):
    ana = make_user("ana")
    room_get_or_create(name="Lobby")
    client = logged_in(ana)
    response = client.post("/chat/lobby/messages/", {"message": "x" * 4001, "key": str(uuid.uuid4())})
    page = response.content.decode()
    assert response.status_code == 400 and "at most 4000 characters" in page and ">xxxx" in page
    assert not Message.objects.exists()


def test_without_javascript_the_composer_needs_the_csrf_token(make_user):
    ana = make_user("ana")
    room_get_or_create(name="Lobby")
    client = Client(enforce_csrf_checks=True)
    client.force_login(ana)
    assert client.post("/chat/lobby/messages/", {"message": "forged", "key": str(uuid.uuid4())}).status_code == 403
    assert not Message.objects.exists()


def test_an_outsider_cannot_post_into_a_private_room_without_javascript_either(make_user):
    ana, cy = make_user("ana"), make_user("cy")
    plans = room_create_private(name="Plans", creator=ana)
    response = logged_in(cy).post(f"/chat/{plans.slug}/messages/", {"message": "hi", "key": str(uuid.uuid4())})
    assert response.status_code == 404 and not Message.objects.exists()


def test_older_history_without_javascript_is_a_whole_page(make_user, settings):
    settings.CHAT_HISTORY_LIMIT = 2
    ana = make_user("ana")
    lobby = room_get_or_create(name="Lobby")[0]
    for body in ["one", "two", "three"]:
        add_message(lobby, ana, body)
    page = logged_in(ana).get("/chat/lobby/older/?before=2").content.decode()
    assert page.startswith("<!doctype html>") and ">one<" in page and 'id="message-form"' in page


@pytest.mark.parametrize("url", ["/chat/no-such-room/", "/nowhere/"])
def test_not_found_is_the_sites_own_page(make_user, url):
    response = logged_in(make_user("ana")).get(url)
    page = response.content.decode()
    assert response.status_code == 404 and "Nothing here" in page and "Go to the rooms" in page


def test_forbidden_is_the_sites_own_page(make_user):
    ana, bea = make_user("ana"), make_user("bea")
    room_get_or_create(name="Lobby", creator=ana)
    response = logged_in(bea).get("/chat/lobby/settings/")
    assert response.status_code == 403 and "You can't do that here" in response.content.decode()


def test_server_errors_are_the_sites_own_page_and_say_nothing_of_the_error(settings):
    settings.DEBUG = False
    from django.test import RequestFactory
    from django.views.defaults import server_error

    page = server_error(RequestFactory().get("/")).content.decode()
    assert "Something went wrong" in page and "Traceback" not in page


def test_empty_sidebar_lists_say_what_to_do(make_user):
    index = logged_in(make_user("ana")).get("/chat/").content.decode()
    assert "No rooms yet" in index and "No conversations yet" in index


@pytest.mark.usefixtures("fresh_in_memory_layer")
async def test_a_removed_members_page_is_told_why_and_its_composer_closes(make_user):
    """No live-looking composer that silently does nothing: the removed member's page gets the
    reason in its badge and a notice in place of the composer, then the socket closes."""
    from channels.db import database_sync_to_async

    from chat.memberships import membership_invite, membership_remove
    from chat.tests.support import join

    ana, bea = await database_sync_to_async(make_user)("ana"), await database_sync_to_async(make_user)("bea")
    plans = await database_sync_to_async(room_create_private)(name="Plans", creator=ana)
    await database_sync_to_async(membership_invite)(room=plans, inviter=ana, username="bea")
    beas = await join(plans.slug, bea)
    await database_sync_to_async(membership_remove)(room=plans, remover=ana, user=bea)
    ended = await beas.receive_from(timeout=2)
    assert "You were removed from this room" in ended and 'id="composer"' in ended and "<textarea" not in ended
    assert "you cannot post here" in ended and "<textarea" not in ended and 'name="message"' not in ended
    assert (await beas.receive_output(timeout=2))["type"] == "websocket.close"
