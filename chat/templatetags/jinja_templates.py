"""`{% load jinja_templates %}`: a Jinja2 template (templates/jinja2/, chat.templating) put in a
Django template, for the page elements whose pushes are rendered in Jinja2 (so that the page and
its pushes still share one file per element)."""

from django import template

from chat import templating

register = template.Library()


@register.simple_tag
def jinja_include(template_name: str, **context) -> str:
    """`{% jinja_include "chat/room/_presence.html" %}`: `template_name` (under templates/jinja2/)
    rendered with `context` (the tag's keyword arguments only: not the including template's),
    in the active language and time zone; autoescaped (chat.templating.render)."""
    return templating.render(template_name, context)
