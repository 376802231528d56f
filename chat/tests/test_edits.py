"""Editing and deleting messages: the rules, the audit row, the edit page, and every open page
shown each change once, in order, also after a reconnect or a lost or repeated event."""

import datetime
import json
import re
import zoneinfo

import pytest
from channels.db import database_sync_to_async
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import Profile
from chat import broadcasts
from chat.edits import message_delete, message_edit
from chat.frames import Sync, frame_parse
from chat.messages import message_create
from chat.models import Mention, Message, MessageRevision, Reaction, Room
from chat.rooms import room_archive, room_get_or_create
from chat.tests.support import logged_in, open_socket, post_barrier


@pytest.fixture
def lobby(people):
    """The public room Lobby, made by ana (its manager), and a message by bea in it."""
    ana, bea, _cy = people
    room = room_get_or_create(name="Lobby", creator=ana)[0]
    return room, message_create(room=room, author=bea, body="hola")


def test_author_edits_own_message_and_the_audit_row_keeps_the_text_before(people, lobby):
    """bea's edit re-renders the text, marks it edited, and writes revision 1 with "hola"."""
    _ana, bea, _cy = people
    room, message = lobby
    edited = message_edit(message=message, editor=bea, body="**hola** a todos")
    edited.refresh_from_db()
    assert edited.body == "**hola** a todos" and "<strong>hola</strong>" in edited.body_html
    assert edited.edited_at is not None and edited.deleted_at is None
    [revision] = MessageRevision.objects.all()
    assert (revision.kind, revision.body_before, revision.actor, revision.change_seq) == ("edit", "hola", bea, 1)
    assert Room.objects.get(pk=room.pk).last_change_seq == 1


def test_only_the_author_may_edit_a_message(people, lobby):
    """ana manages the room, yet she may not put words in bea's mouth."""
    ana, _bea, _cy = people
    with pytest.raises(PermissionDenied):
        message_edit(message=lobby[1], editor=ana, body="changed")
    assert not MessageRevision.objects.exists()


def test_an_edit_or_deletion_after_the_window_is_refused_for_the_author(people, lobby, settings):
    """Past CHAT_EDIT_SECONDS its author may neither edit nor delete the message."""
    _ana, bea, _cy = people
    settings.CHAT_EDIT_SECONDS = 60
    message = lobby[1]
    Message.objects.filter(pk=message.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=2))
    message.refresh_from_db()
    with pytest.raises(PermissionDenied, match="1 minutes"):
        message_edit(message=message, editor=bea, body="late")
    with pytest.raises(PermissionDenied):
        message_delete(message=message, actor=bea)


def test_an_edit_to_blank_or_invisible_text_is_refused_as_a_post_is(people, lobby):
    """The composer's rules: nothing but spaces and zero-width characters is no message."""
    with pytest.raises(ValidationError):
        message_edit(message=lobby[1], editor=people[1], body=" \u200b ")
    assert Message.objects.get(pk=lobby[1].pk).body == "hola"


def test_an_edit_links_new_mentions_and_forgets_old_ones(people, lobby):
    """The edited text's @mentions are linked and recorded like a new message's."""
    ana, bea, cy = people
    room, _message = lobby
    room.memberships.create(user=ana)
    message = message_create(room=room, author=bea, body="hi @ana")
    assert list(Mention.objects.values_list("user", flat=True)) == [ana.pk]
    room.memberships.create(user=cy)
    edited = message_edit(message=message, editor=bea, body="hi @cy")
    assert 'data-mention="cy"' in edited.body_html
    assert list(Mention.objects.values_list("user", flat=True)) == [cy.pk]


def test_manager_deletes_any_message_any_time_leaving_a_placeholder(people, lobby):
    """ana (the room's creator) deletes bea's day-old message: its text goes, the audit keeps it."""
    ana, _bea, _cy = people
    message = lobby[1]
    Message.objects.filter(pk=message.pk).update(created_at=timezone.now() - datetime.timedelta(days=1))
    message.refresh_from_db()
    deleted = message_delete(message=message, actor=ana)
    assert (deleted.body, deleted.body_html) == ("", "") and deleted.deleted_at is not None
    [revision] = MessageRevision.objects.all()
    assert (revision.kind, revision.body_before, revision.actor) == ("delete", "hola", ana)
    assert message_delete(message=deleted, actor=ana).deleted_at == deleted.deleted_at  # twice: once


def test_a_member_cannot_delete_someone_elses_message(people, lobby):
    """cy is neither the author nor a manager."""
    with pytest.raises(PermissionDenied):
        message_delete(message=lobby[1], actor=people[2])


def test_an_archived_room_refuses_edits_and_deletions(people, lobby):
    """Read-only means read-only, for managers too."""
    ana, bea, _cy = people
    room, message = lobby
    room_archive(room=room)
    with pytest.raises(ValidationError):
        message_edit(message=message, editor=bea, body="changed")
    with pytest.raises(ValidationError):
        message_delete(message=message, actor=ana)
    assert not MessageRevision.objects.exists()


def test_a_deleted_message_cannot_be_edited_and_each_change_takes_the_next_number(people, lobby):
    """Changes are numbered 1, 2... per room; a deleted message stays deleted."""
    _ana, bea, _cy = people
    message = message_edit(message=lobby[1], editor=bea, body="uno")
    message = message_delete(message=message, actor=bea)
    with pytest.raises(ValidationError):
        message_edit(message=message, editor=bea, body="dos")
    assert list(MessageRevision.objects.values_list("change_seq", "kind")) == [(1, "edit"), (2, "delete")]


def test_the_edit_page_edits_and_deletes_without_javascript(people, lobby):
    """bea's edit page: a form with her text; POST saves and goes back to the message; "Delete"
    needs its confirmation. cy gets a 403 with the reason."""
    _ana, bea, cy = people
    room, message = lobby
    url = reverse("chat:message_edit", args=[room.slug, message.seq])
    page = logged_in(bea).get(url)
    assert page.status_code == 200 and "hola</textarea>" in page.content.decode()
    answer = logged_in(bea).post(url, {"message": "hola, editado"})
    assert answer.status_code == 302 and answer["Location"].endswith(f"#message-{message.pk}")
    assert logged_in(cy).post(url, {"message": "mine now"}).status_code == 403
    delete_url = reverse("chat:message_delete", args=[room.slug, message.seq])
    logged_in(bea).post(delete_url, {})
    assert Message.objects.get(pk=message.pk).deleted_at is None
    logged_in(bea).post(delete_url, {"confirm": "yes"})
    room_page = logged_in(cy).get(room.get_absolute_url()).content.decode()
    assert "Message deleted" in room_page and "hola" not in room_page
    assert 'id="changes" name="changes" value="2"' in room_page


# The sockets: each change reaches every open page once, in order.


def test_the_sync_frame_carries_the_pages_change_cursor_when_it_has_one():
    """`changes` is read like a seq; an old page's sync without it says nothing about changes."""
    assert frame_parse(sync_with_changes(3, 2), max_bytes=1000) == Sync(3, 2)
    assert frame_parse('{"after": "3", "changes": "x"}', max_bytes=1000) == Sync(3, None)
    assert frame_parse('{"after": 3}', max_bytes=1000) == Sync(3, None)


def sync_with_changes(after: int, changes: int) -> str:
    """The page's sync frame with its change cursor (templates/chat/room/_changes_cursor.html)."""
    return json.dumps({"after": str(after), "changes": str(changes), "HEADERS": {"HX-Trigger": "sync"}})


async def page_socket(room, user, *, after: int, changes: int):
    """A socket opened as a page that has messages up to `after` and changes up to `changes`."""
    socket, connected = await open_socket(room.slug, user)
    assert connected and "room-status" in await socket.receive_from()
    await socket.send_to(text_data=sync_with_changes(after, changes))
    await socket.settle()
    return socket


def bubbles(frames: list[str], message) -> list[str]:
    """The frames' bubbles of `message`."""
    return re.findall(rf'<article [^>]*id="message-{message.pk}".*?</article>', "".join(frames), re.S)


async def start(people):
    ana, bea, _cy = people
    room = (await database_sync_to_async(room_get_or_create)(name="Lobby", creator=ana))[0]
    message = await database_sync_to_async(message_create)(room=room, author=ana, body="first draft")
    return room, message


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_in_memory_layer")
async def test_an_edit_reaches_another_page_once_as_the_replaced_bubble(people):
    """ana edits; bea's open page gets the new bubble once, marked edited, its change cursor at 1."""
    ana, bea, _cy = people
    room, message = await start(people)
    reader = await page_socket(room, bea, after=1, changes=0)
    await database_sync_to_async(message_edit)(message=message, editor=ana, body="second <b>draft</b>")
    frames = await reader.frames_before(await post_barrier(room, ana))
    [bubble] = bubbles(frames, message)
    assert "second &lt;b&gt;draft&lt;/b&gt;" in bubble and "(edited)" in bubble and "first draft" not in bubble
    assert "hx-swap-oob" not in bubble and 'id="changes" name="changes" value="1"' in "".join(frames)
    await reader.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_in_memory_layer")
async def test_a_page_that_reconnects_gets_the_edited_and_deleted_bubbles_it_missed(people):
    """bea was away while ana edited one message and deleted another: her sync, with her old
    change cursor, brings both bubbles as they are now; a page that has them gets nothing again."""
    ana, bea, _cy = people
    room, message = await start(people)
    other = await database_sync_to_async(message_create)(room=room, author=ana, body="oops")
    await database_sync_to_async(message_edit)(message=message, editor=ana, body="final text")
    await database_sync_to_async(message_delete)(message=other, actor=ana)

    reader = await page_socket(room, bea, after=2, changes=0)
    frames = reader.held
    [edited] = bubbles(frames, message)
    [deleted] = bubbles(frames, other)
    assert "final text" in edited and "Message deleted" in deleted and "oops" not in deleted
    assert 'id="changes" name="changes" value="2"' in "".join(frames)
    await reader.disconnect()

    again = await page_socket(room, bea, after=2, changes=2)
    assert not bubbles(again.held, message) and not bubbles(again.held, other)
    await again.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_in_memory_layer")
async def test_a_lost_or_repeated_change_event_is_applied_once_in_order(people, monkeypatch):
    """Change 1's event is lost and change 2's comes twice: the gap is repaired from the database
    (both bubbles, as they are now) and the repeat is dropped."""
    ana, bea, _cy = people
    room, message = await start(people)
    reader = await page_socket(room, bea, after=1, changes=0)
    held = []
    monkeypatch.setattr(broadcasts, "message_changed_broadcast", lambda **event: held.append(event))
    await database_sync_to_async(message_edit)(message=message, editor=ana, body="one")
    await database_sync_to_async(message_edit)(message=message, editor=ana, body="two")
    monkeypatch.undo()
    second = held[1]
    await database_sync_to_async(broadcasts.message_changed_broadcast)(**second)  # 1 is lost
    await database_sync_to_async(broadcasts.message_changed_broadcast)(**second)  # 2 again
    await database_sync_to_async(broadcasts.message_changed_broadcast)(**held[0])  # 1, late
    frames = await reader.frames_before(await post_barrier(room, ana))
    [bubble] = bubbles(frames, message)
    assert ">two<" in bubble.replace("<p>", ">").replace("</p>", "<")
    assert 'id="changes" name="changes" value="2"' in "".join(frames)
    await reader.disconnect()


def test_the_admin_shows_the_audit_trail_read_only(people, lobby, django_user_model):
    """Staff see who changed what, and the text before, on the message and in its own list."""
    _ana, bea, _cy = people
    message = message_edit(message=lobby[1], editor=bea, body="hola de nuevo")
    admin = logged_in(django_user_model.objects.create_superuser("root", "root@example.com", "pw"))
    listing = admin.get(reverse("admin:chat_messagerevision_changelist"))
    assert listing.status_code == 200 and "bea" in listing.content.decode()
    page = admin.get(reverse("admin:chat_message_change", args=[message.pk])).content.decode()
    assert "hola" in page and "Add another" not in page.split("revisions")[-1]
    assert admin.get(reverse("admin:chat_messagerevision_add")).status_code == 403


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_in_memory_layer")
async def test_a_reader_in_another_language_gets_the_edited_bubble_in_hers_with_its_reactions(people, settings):
    """bea reads in Spanish in Bogotá: the pushed bubble is rendered again for her ("(editado)",
    her time zone), keeping the message's reactions, with no query on her socket."""
    ana, bea, _cy = people
    settings.LANGUAGE_CODE, settings.TIME_ZONE = "en", "UTC"
    room, message = await start(people)

    @database_sync_to_async
    def prepare():
        Profile.objects.update_or_create(user=bea, defaults={"language": "es", "time_zone": "America/Bogota"})
        Reaction.objects.create(message=message, user=bea, emoji="👍")

    await prepare()
    reader = await page_socket(room, bea, after=1, changes=0)
    await database_sync_to_async(message_edit)(message=message, editor=ana, body="editado")
    frames = await reader.frames_before(await post_barrier(room, ana))
    [bubble] = bubbles(frames, message)
    assert "(editado)" in bubble and "Editado el" in bubble and 'class="reaction-count">1<' in bubble
    bogota = message.created_at.astimezone(zoneinfo.ZoneInfo("America/Bogota"))
    assert f">{bogota:%H:%M}</time>" in bubble
    await reader.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_in_memory_layer")
async def test_a_page_that_missed_more_changed_messages_than_a_page_gets_a_new_log(people, settings):
    """More changed messages than CHAT_HISTORY_LIMIT: the log is replaced by the latest history,
    as it is now, and the change cursor moved, rather than a flood of bubbles."""
    ana, bea, _cy = people
    settings.CHAT_HISTORY_LIMIT = 2
    room, first = await start(people)
    second = await database_sync_to_async(message_create)(room=room, author=ana, body="second draft")
    third = await database_sync_to_async(message_create)(room=room, author=ana, body="third draft")
    for message in (first, second, third):
        await database_sync_to_async(message_edit)(message=message, editor=ana, body=f"{message.body}, done")

    reader = await page_socket(room, bea, after=3, changes=0)
    frames = "".join(reader.held)
    assert '<div id="messages" class="log" role="log"' in frames
    assert "second draft, done" in frames and "third draft, done" in frames and "first draft" not in frames
    assert 'id="changes" name="changes" value="3"' in frames
    await reader.disconnect()
