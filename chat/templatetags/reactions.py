"""`{% load reactions %}`: a message's reaction bar (chat.reactions), for
`templates/chat/messages/_reactions.html` when the bubble includes it."""

from django import template

from chat import reactions

register = template.Library()


@register.simple_tag
def reaction_bar(message) -> reactions.ReactionBar:
    """`{% reaction_bar message as bar %}`: its id, reactions by emoji and the palette. No query
    when the page prefetched its reactions (selectors.reactions_prefetch) or for a new message."""
    return reactions.reaction_bar(message)
