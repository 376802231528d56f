"""A just-posted message's line from its minute's shell (chat.bubbles.fresh_line_html): byte for
byte what the template renders, in every language, zone and grouping, with hostile names and
bodies; a line that shows more than a shell has is left to the template."""

import datetime
from unittest import mock

import pytest
from django.utils import timezone, translation

from chat import bubbles, templating, variants
from chat.attachments import attachments_restore
from chat.memberships import membership_join
from chat.messages import message_create
from chat.models import Attachment
from chat.rooms import room_get_or_create
from chat.selectors import LogLine, related_restore

pytestmark = pytest.mark.django_db


def posted(room, author, body: str, at: datetime.datetime):
    """A message of `author` stored at `at`, as the push has it: no reactions, no attachments."""
    with mock.patch("chat.broadcasts.message_broadcast"), mock.patch("django.utils.timezone.now", return_value=at):
        message = message_create(room=room, author=author, body=body)
    related_restore(message, "reactions", [])
    attachments_restore(message, [])
    return message


def template_html(line: LogLine, name: str) -> str:
    """What the template renders for `line`, as the push rendered it before shells."""
    return templating.render(bubbles.LINE, {"line": variants._line_shown(line, name), "live": True})


@pytest.mark.parametrize("language, zone", [("en", "UTC"), ("es", "America/Bogota"), ("en", "Asia/Kolkata")])
def test_a_fresh_line_is_what_the_template_renders_for_any_name_body_and_grouping(make_user, language, zone):
    ana = make_user("ana<&>")
    room = room_get_or_create(name="Sala de café")[0]
    membership_join(room=room, user=ana)
    at = datetime.datetime(2026, 11, 23, 15, 7, 41, 123456, tzinfo=datetime.UTC)
    first = posted(room, ana, 'a <script>alert("x")</script> **bold** https://example.com/?a=1&b=2', at)
    second = posted(room, ana, "tertulia-slot-name 999999999901 `code`", at + datetime.timedelta(seconds=9))
    with translation.override(language), timezone.override(zone):
        for line in (
            LogLine.after(first, author_id=None, at=first.created_at),  # a group of its own
            LogLine.after(second, author_id=ana.pk, at=first.created_at),  # continued
        ):
            assert not line.new_day
            for name in ('Ana "<b>" & Co', "", "tertulia-slot-room"):
                html = bubbles.fresh_line_html(line, name=name)
                assert html == template_html(line, name)
        html = bubbles.fresh_line_html(LogLine.after(first, author_id=None, at=first.created_at), name="<b>Ana</b>")
        assert "&lt;script&gt;" in html and "<script>" not in html and "&lt;b&gt;Ana&lt;/b&gt;" in html


def test_one_shell_serves_every_fresh_line_of_a_minute(make_user):
    ana, bea = make_user("ana"), make_user("bea")
    room = room_get_or_create(name="Lobby")[0]
    at = datetime.datetime(2026, 11, 23, 15, 7, 1, tzinfo=datetime.UTC)
    messages = [posted(room, (ana, bea)[i % 2], f"hello {i}", at + datetime.timedelta(seconds=i)) for i in range(6)]
    render = templating.render
    with mock.patch.object(bubbles.templating, "render", side_effect=render) as rendered:
        lines = [LogLine.after(message, author_id=None, at=at) for message in messages]
        htmls = [bubbles.fresh_line_html(line, name="") for line in lines]
    assert [call.args[0] for call in rendered.call_args_list].count(bubbles.LINE) == 1
    assert htmls == [template_html(line, "") for line in lines]
    assert len(set(htmls)) == 6


def test_a_line_that_shows_more_than_a_shell_is_left_to_the_template(make_user):
    ana = make_user("ana")
    room = room_get_or_create(name="Lobby")[0]
    at = datetime.datetime(2026, 11, 23, 15, 7, 1, tzinfo=datetime.UTC)
    message = posted(room, ana, "hello", at)
    assert bubbles.fresh_line_html(LogLine(message, new_day=True), name="") is None  # a day separator
    edited = posted(room, ana, "edited", at)
    edited.edited_at = at
    assert bubbles.fresh_line_html(LogLine(edited, new_day=False), name="") is None
    attached = posted(room, ana, "with a file", at)
    attachments_restore(attached, [Attachment(message_id=attached.pk, original_name="a.txt", size=1, file="a.txt")])
    assert bubbles.fresh_line_html(LogLine(attached, new_day=False), name="") is None
    bare = posted(room, ana, "no html", at)
    bare.body_html = ""
    assert bubbles.fresh_line_html(LogLine(bare, new_day=False), name="") is None
    with mock.patch.object(bubbles, "TIME_FORMATS", ("H:i:s",)):  # a format showing seconds
        assert bubbles.fresh_line_html(LogLine(message, new_day=False), name="") is None


def test_the_push_of_a_new_message_is_rendered_from_the_shell_as_the_template_would(make_user):
    ana = make_user("ana")
    room = room_get_or_create(name="Lobby")[0]
    at = datetime.datetime(2026, 11, 23, 15, 7, 1, tzinfo=datetime.UTC)
    message = posted(room, ana, "hello *there*", at)
    line = LogLine.after(message, author_id=None, at=at)
    with mock.patch.object(bubbles, "fresh_line_html", return_value=None):
        expected = variants.message_push(line, name="Ana", present=None)["html"]
    shell_html = bubbles.fresh_line_html(line, name="Ana")  # what the push puts in, not None
    assert shell_html is not None and shell_html in expected
    assert variants.message_push(line, name="Ana", present=None)["html"] == expected
