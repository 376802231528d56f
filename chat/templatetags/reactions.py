"""`{% load reactions %}`: a message's reaction bar (chat.reactions), for
`templates/chat/messages/_reactions.html` when the bubble includes it."""

from django import template

from chat import reactions

register = template.Library()


@register.simple_tag
def reaction_bar(message) -> reactions.ReactionBar:
    """`{% reaction_bar message as bar %}`: its id and reactions by emoji. No query
    when the page prefetched its reactions (selectors.related_load) or for a new message."""
    return reactions.reaction_bar(message)


@register.simple_tag
def reaction_palette(message_id: int) -> str:
    """`{% reaction_palette bar.message_id %}`: the message's palette (reactions.palette_html)."""
    return reactions.palette_html(message_id)
