"""`{% load log_lines %}`: a log line (`chat/messages/_line.html`) from this process's memo of
rendered lines (chat.bubbles), for the log and every push that adds to it; a bubble alone
(`chat/messages/_message.html`), for the pushes of changed messages and the mentions page.
Both templates are Jinja2 (chat.templating)."""

from django import template

from chat import bubbles, templating

register = template.Library()


@register.simple_tag
def log_line(line, live: bool = False) -> str:
    """`{% log_line line %}` (`live=True` for a push): as `{% include "chat/messages/_line.html" %}`
    with `line` and `live`, rendered once per process for what it shows (bubbles.line_html)."""
    return bubbles.line_html(line, live=live)


@register.simple_tag
def bubble(message, continued: bool = False) -> str:
    """`{% bubble message continued=line.continued %}`: `message`'s bubble, grouped with the one
    before if `continued`, as the log shows it."""
    return templating.render(bubbles.BUBBLE, {"message": message, "continued": continued})
