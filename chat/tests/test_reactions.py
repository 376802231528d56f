"""Reactions: toggling through the service and the page's form, the bar pushed once to the room's
page, and the room page's queries bounded however many messages and reactions it shows."""

import re

import pytest
from channels.db import database_sync_to_async
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Profile
from accounts.ratelimits import rate_limits_reset
from chat import latest, reactions, variants
from chat.memberships import membership_join
from chat.models import Reaction
from chat.reactions import reaction_toggle
from chat.rooms import room_create_private, room_get_or_create
from chat.tests.support import add_message, logged_in, post_barrier

HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def no_counts_from_earlier_runs():
    rate_limits_reset()  # counts live in Redis across runs, and user ids repeat


@pytest.fixture
def lobby(people):
    """Lobby, with a message by bea that ana, bea and cy can read."""
    ana, bea, cy = people
    room, _created = room_get_or_create(name="Lobby")
    for person in people:
        membership_join(room=room, user=person)
    return room, add_message(room, bea, "hola")


def bar_of(html: str, message) -> str:
    """The reaction bar of `message` in `html` (a page or a pushed frame)."""
    found = re.search(rf'<div class="reactions" id="reactions-{message.pk}".*?</div>', html, re.S)
    assert found, html
    return found.group(0)


@pytest.mark.django_db(transaction=True)
def test_a_reaction_toggles_on_then_off(lobby, people):
    room, message = lobby
    ana = people[0]
    assert reaction_toggle(message=message, user=ana, emoji="👍") is True
    assert list(Reaction.objects.values_list("user__username", "emoji")) == [("ana", "👍")]
    assert reaction_toggle(message=message, user=ana, emoji="❤️") is True
    assert reaction_toggle(message=message, user=ana, emoji="👍") is False
    assert list(Reaction.objects.values_list("emoji", flat=True)) == ["❤️"]


@pytest.mark.django_db(transaction=True)
def test_the_database_keeps_one_row_per_message_user_and_emoji(lobby, people):
    room, message = lobby
    Reaction.objects.create(message=message, user=people[0], emoji="👍")
    Reaction.objects.create(message=message, user=people[0], emoji="😂")  # another emoji is another row
    with pytest.raises(IntegrityError), transaction.atomic():
        Reaction.objects.create(message=message, user=people[0], emoji="👍")


@pytest.mark.django_db(transaction=True)
def test_a_twin_add_landing_first_leaves_one_row_and_both_say_added(lobby, people, monkeypatch):
    """A double click's second request adds the row between this one's look and its insert: the
    constraint refuses this insert, and the reaction is there, once."""
    room, message = lobby
    delete = QuerySet.delete

    def twin_lands_after_the_look(queryset):
        removed = delete(queryset)
        if queryset.model is Reaction:
            Reaction.objects.create(message=message, user=people[0], emoji="👍")
        return removed

    monkeypatch.setattr(QuerySet, "delete", twin_lands_after_the_look)
    assert reaction_toggle(message=message, user=people[0], emoji="👍") is True
    assert Reaction.objects.filter(message=message, user=people[0], emoji="👍").count() == 1


@pytest.mark.django_db(transaction=True)
def test_only_the_palettes_emojis_are_taken(lobby, people, settings):
    room, message = lobby
    with pytest.raises(ValidationError):
        reaction_toggle(message=message, user=people[0], emoji="🤡")
    with pytest.raises(ValidationError):
        reaction_toggle(message=message, user=people[0], emoji="<b>")
    settings.CHAT_REACTIONS = ["🤡"]
    assert reaction_toggle(message=message, user=people[0], emoji="🤡") is True
    with pytest.raises(ValidationError):
        reaction_toggle(message=message, user=people[0], emoji="👍")


@pytest.mark.django_db(transaction=True)
def test_outsiders_of_a_private_room_and_archived_rooms_are_refused(people):
    ana, bea, cy = people
    room = room_create_private(name="Secret", creator=ana)
    message = add_message(room, ana, "psst")
    with pytest.raises(PermissionDenied):
        reaction_toggle(message=message, user=cy, emoji="👍")
    room.archived_at = timezone.now()
    room.save()
    with pytest.raises(ValidationError):
        reaction_toggle(message=message, user=ana, emoji="👍")
    assert not Reaction.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_form_toggles_and_without_javascript_goes_back_to_the_message(lobby, people):
    room, message = lobby
    client = logged_in(people[0])
    answer = client.post(f"/chat/{room.slug}/reactions/", {"reaction": f"{message.pk}:👍"})
    assert answer.status_code == 302 and answer["Location"] == f"/chat/{room.slug}/#message-{message.pk}"
    assert (
        client.post(f"/chat/{room.slug}/reactions/", {"reaction": f"{message.pk}:👍"}, headers=HTMX).status_code == 204
    )
    assert not Reaction.objects.exists()
    url = f"/chat/{room.slug}/reactions/"
    assert client.post(url, {"reaction": f"{message.pk}:🤡"}, headers=HTMX).status_code == 400
    assert client.post(url, {"reaction": "x:👍"}).status_code == 400
    assert client.post(url, {"reaction": "999999:👍"}).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_private_rooms_messages_are_a_404_to_outsiders_through_the_form(people):
    ana, bea, cy = people
    room = room_create_private(name="Secret", creator=ana)
    message = add_message(room, ana, "psst")
    assert logged_in(cy).post(f"/chat/{room.slug}/reactions/", {"reaction": f"{message.pk}:👍"}).status_code == 404
    assert not Reaction.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_reactions_are_rate_limited_per_user(lobby, people, settings):
    settings.CHAT_REACTION_RATE_LIMITS = "2/minute"
    room, message = lobby
    client = logged_in(people[0])
    for emoji in ("👍", "❤️", "😂"):
        client.post(f"/chat/{room.slug}/reactions/", {"reaction": f"{message.pk}:{emoji}"})
    assert sorted(Reaction.objects.values_list("emoji", flat=True)) == sorted(["👍", "❤️"])
    page = client.get(room.get_absolute_url()).content.decode()
    assert "You have reacted many times lately" in page
    refused = client.post(f"/chat/{room.slug}/reactions/", {"reaction": f"{message.pk}:😂"}, headers=HTMX)
    assert refused.status_code == 429
    assert "You have reacted many times lately" not in client.get(room.get_absolute_url()).content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_bar_counts_names_and_marks_who_reacted_alike_for_every_reader(lobby, people):
    """One bar for all: the count, the names (display names, escaped) in the title, the reactors'
    ids for the reader's style rule, and the palette with accessible names."""
    room, message = lobby
    ana, bea, cy = people
    Profile.objects.create(user=ana, display_name='Ana "<b>"')
    for person in (ana, cy):
        reaction_toggle(message=message, user=person, emoji="🎉")
    pages = [logged_in(person).get(room.get_absolute_url()).content.decode() for person in (ana, bea)]
    bar = bar_of(pages[0], message)
    assert bar == bar_of(pages[1], message)
    assert f'data-users=" {ana.pk} {cy.pk} "' in bar
    assert 'aria-label="🎉 2: Ana &#34;&lt;b&gt;&#34;, cy"' in bar and "<b>" not in bar  # Jinja2's escape
    assert f'value="{message.pk}:🎉"' in bar and 'form="reaction-form"' in bar
    assert bar.count('aria-label="React with ') == 6 and 'aria-label="React with 👍"' in bar
    assert f'.reaction[data-users~="{bea.pk}"]' in pages[1]
    assert '<form id="reaction-form"' in pages[1] and "csrfmiddlewaretoken" in pages[1]


@pytest.mark.django_db(transaction=True)
def test_the_room_page_costs_the_same_queries_whatever_its_messages_and_reactions(lobby, people):
    room, message = lobby
    client = logged_in(people[1])
    client.get(room.get_absolute_url())  # the profile and membership made on a first visit
    add_message(room, people[0], "one more")  # both views have a message to mark read
    latest.latest_forget()  # both pages read from the database, not kept (chat.latest)
    with CaptureQueriesContext(connection) as few:
        client.get(room.get_absolute_url())
    for n in range(20):
        more = add_message(room, people[n % 3], f"message {n}")
        for person in people[: 1 + n % 3]:
            Reaction.objects.create(message=more, user=person, emoji=reactions.DEFAULT_PALETTE[n % 6])
    latest.latest_forget()
    with CaptureQueriesContext(connection) as many:
        page = client.get(room.get_absolute_url()).content.decode()
    assert page.count('class="reaction"') == 20
    assert len(many) == len(few), [query["sql"] for query in many]


@pytest.mark.django_db(transaction=True)
async def test_a_reaction_posted_reaches_the_rooms_page_once_with_its_bar(lobby_sockets):
    """Ana reacts through the form (htmx): Bea's page gets the message's bar once, with ana's
    name in its title, before a message posted after it."""
    room, (ana, bea) = await lobby_sockets("ana", "bea")
    message = await database_sync_to_async(add_message)(room, bea.user, "hola")
    client = await database_sync_to_async(logged_in)(ana.user)
    post = database_sync_to_async(client.post)
    answer = await post(f"/chat/{room.slug}/reactions/", {"reaction": f"{message.pk}:👍"}, headers=HTMX)
    assert answer.status_code == 204

    frames = await bea.frames_before(await post_barrier(room, bea.user))
    bars = [frame for frame in frames if f'id="reactions-{message.pk}"' in frame]
    assert len(bars) == 1, frames
    assert 'title="👍 1: ana"' in bars[0] and f'data-users=" {ana.user.pk} "' in bars[0]


@pytest.mark.django_db
def test_a_pushed_bar_is_told_again_in_another_language_without_a_query(django_assert_num_queries, settings):
    """The bar's push carries its data: a Spanish socket renders it again with no database."""
    settings.LANGUAGE_CODE = "en"
    push = variants.push("reactions", {"message": 7, "groups": [["👍", [[3, "Ana"]]]]})
    event = {"type": "chat.reactions", **push}
    with django_assert_num_queries(0):
        english = variants.push_html(event, None)
        spanish = variants.push_html(event, variants.Variant("es", "UTC"))
    assert 'id="reactions-7"' in english and 'title="👍 1: Ana"' in english
    assert 'id="reactions-7"' in spanish and 'data-users=" 3 "' in spanish
