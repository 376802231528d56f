"""Log lines rendered once per process for what they show (chat.bubbles): the same line is
rendered once, as the template renders it; whatever it shows changing (a reaction, a rename,
an edit, the reader's language) is another line."""

from unittest import mock

import pytest
from django.template import Context, Template
from django.template.loader import render_to_string
from django.utils import translation

from accounts.models import Profile
from chat import bubbles, reactions, templating
from chat.memberships import membership_join
from chat.messages import message_create
from chat.models import Attachment
from chat.reactions import reaction_toggle
from chat.rooms import room_get_or_create
from chat.selectors import message_history

pytestmark = pytest.mark.django_db


def lines_of(room):
    return message_history(room=room)


def test_a_line_is_rendered_once_as_its_template_renders_it_until_what_it_shows_changes(make_user):
    ana, bea = make_user("ana"), make_user("bea")
    room = room_get_or_create(name="Lobby")[0]
    for user in (ana, bea):
        membership_join(room=room, user=user)
    with mock.patch("chat.broadcasts.message_broadcast"):
        message_create(room=room, author=ana, body="hello **there**")
    renders = []
    render = bubbles.templating.render
    with mock.patch.object(bubbles.templating, "render", side_effect=lambda *a: renders.append(a[0]) or render(*a)):
        (line,) = lines_of(room)
        first = bubbles.line_html(line)
        assert first == render_to_string(bubbles.LINE, {"line": line, "live": False})
        assert bubbles.line_html(lines_of(room)[0]) == first
        assert renders.count(bubbles.LINE) == 1  # a fresh read of the same message: the memo's

        assert bubbles.line_html(line, live=True) != first  # pushed: marked live
        with translation.override("es"):
            assert "Editar" in bubbles.line_html(lines_of(room)[0])
        with mock.patch("chat.broadcasts.reactions_broadcast"):
            reaction_toggle(message=line.message, user=bea, emoji="👍")
        reacted = bubbles.line_html(lines_of(room)[0])
        assert 'class="reaction"' in reacted and 'class="reaction"' not in first
        Profile.objects.create(user=ana, display_name="Ana María")
        assert "Ana María" in bubbles.line_html(lines_of(room)[0])
        assert renders.count(bubbles.LINE) == 5


def test_an_empty_reaction_bar_is_rendered_once_per_language_as_its_template_renders_it(make_user):
    """Every new message's bubble shows an empty reaction bar: the same bytes but for its id."""
    ana = make_user("ana")
    room = room_get_or_create(name="Lobby")[0]
    membership_join(room=room, user=ana)
    with mock.patch("chat.broadcasts.message_broadcast"):
        first, second = (message_create(room=room, author=ana, body=f"message {n}") for n in range(2))
    bars = [reactions.bar_html(message) for message in (first, second)]
    assert bars == [reactions.reactions_html(message_id=m.pk, groups=[]) for m in (first, second)]
    assert f'id="reactions-{second.pk}"' in bars[1] and str(reactions._BAR_SLOT) not in bars[1]
    with translation.override("es"):
        assert "Reacciones" in reactions.bar_html(first)
    assert len(reactions._empty_bars) == 2  # one a language


def test_the_memo_stays_bounded(make_user, monkeypatch):
    monkeypatch.setattr(bubbles, "MEMO_SIZE", 3)
    ana = make_user("ana")
    room = room_get_or_create(name="Lobby")[0]
    membership_join(room=room, user=ana)
    with mock.patch("chat.broadcasts.message_broadcast"):
        for n in range(5):
            message_create(room=room, author=ana, body=f"message {n}")
    for line in lines_of(room):
        bubbles.line_html(line)
    assert len(bubbles._memo) == 3


def test_the_jinja2_bubble_escapes_what_users_typed_and_a_django_template_does_not_escape_it_again(make_user):
    """The log line's templates are Jinja2 (chat.templating), which templating.render marks safe:
    that holds only if every value in them is escaped. A bulk-loaded body (no body_html), an
    attachment's name and a display name are users' text; the bubble put in by a Django
    template's `{% bubble %}` keeps its markup."""
    ana = make_user("ana")
    Profile.objects.create(user=ana, display_name="<i>Ana</i>")
    room = room_get_or_create(name="Lobby")[0]
    membership_join(room=room, user=ana)
    with mock.patch("chat.broadcasts.message_broadcast"):
        message = message_create(room=room, author=ana, body="hello")
    message.body, message.body_html = "<script>alert(1)</script>", ""
    message.save()
    Attachment.objects.create(message=message, original_name='"><img src=x>.txt', size=3, content_type="text/plain")
    bea = make_user("bea")
    Profile.objects.create(user=bea, display_name="<b>Bea</b>")
    membership_join(room=room, user=bea)
    with mock.patch("chat.broadcasts.reactions_broadcast"):
        reaction_toggle(message=message, user=bea, emoji="👍")
    (line,) = lines_of(room)
    html = bubbles.line_html(line)
    assert "&lt;b&gt;Bea&lt;/b&gt;" in html and "<b>Bea" not in html  # a reactor's name, in the bar
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert "&#34;&gt;&lt;img src=x&gt;.txt" in html and "<img src=x>" not in html
    assert "&lt;i&gt;Ana&lt;/i&gt;" in html and "<i>Ana" not in html
    page = Template("{% load log_lines %}{% bubble message %}").render(Context({"message": line.message}))
    assert page.lstrip().startswith('<article class="message"') and "&lt;script&gt;alert(1)" in page
    assert "&amp;lt;" not in page  # not escaped twice


def test_the_environment_autoescapes_whatever_the_settings_say():
    assert templating.environment(autoescape=False).autoescape is True
