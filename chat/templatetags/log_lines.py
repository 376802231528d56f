"""`{% load log_lines %}`: a log line (`chat/messages/_line.html`) from this process's memo of
rendered lines (chat.bubbles), for the log and every push that adds to it."""

from django import template

from chat import bubbles

register = template.Library()


@register.simple_tag
def log_line(line, live: bool = False) -> str:
    """`{% log_line line %}` (`live=True` for a push): as `{% include "chat/messages/_line.html" %}`
    with `line` and `live`, rendered once per process for what it shows (bubbles.line_html)."""
    return bubbles.line_html(line, live=live)
