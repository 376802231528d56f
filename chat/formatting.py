"""A message's source, as people type it in a chat, made safe HTML; and the names it mentions.

The subset is that of Slack and Zulip's everyday use: *italic* (or _italic_), **bold**, ~~strike~~,
`inline code`, fenced code blocks, block quotes, lists, a line break for every newline, bare URLs
(and e-mail addresses) made links, and `@username` / `@here` mentions. Nothing else is Markdown here:
headings, images, `[text](url)` links, link references, tables, rules, indented code and raw HTML
all stay the text that was typed (raw HTML escaped). Hidden link targets are left out on purpose: a
link reads as where it goes.

Two layers, so that neither alone has to be perfect: markdown-it-py (CommonMark, with only the
rules above switched on, raw HTML off, and links only to http, https and mailto) writes the HTML,
then nh3 (Ammonia, an allow-list sanitiser) keeps only the tags, attributes, classes and URL
schemes this subset produces. Nothing it returns has an `id`, a `style`, an event handler or an
`hx-*`/`ws-*`/`data-hx-*` attribute, so htmx finds nothing to swap or run in a message.
"""

import re
import unicodedata
from collections.abc import Collection, Mapping

import nh3
from linkify_it import LinkifyIt
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_inline import StateInline
from markdown_it.rules_inline.linkify import linkify as inline_linkify

LINK_REL = "nofollow noopener noreferrer"
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
HERE = "here"

# Django's username characters (UnicodeUsernameValidator: letters, digits and @.+-_).
MENTION_NAME_RE = re.compile(r"[\w.@+-]+")
# Characters after which "@" starts no mention: it is inside a URL, a path or a query.
NOT_BEFORE_MENTION = frozenset("/:=?&#%.+-_@\\")
SAFE_LINK_RE = re.compile(r"(?:https?|mailto):", re.IGNORECASE)
HTTP_TAIL_RE = re.compile(r"(?:^|[^a-z0-9.+-])https?$", re.IGNORECASE)
# Plain prose: words of letters and digits (any script) and , ; ! ? ¿ ¡ ' between single spaces.
# None of Markdown's, linkify's or HTML's special characters (no . : @ _ * ~ ` & < > " # - +
# \ nor a line break), so its HTML is one paragraph of the text as typed (message_html).
PLAIN_RE = re.compile(r"(?:[^\W_]|[,;!?¿¡'])+(?: (?:[^\W_]|[,;!?¿¡'])+)*")

# Bare domains are linked for these top-level domains only: linkify-it's default adds every
# two-letter country code, which turns file names (models.py, README.md, setup.sh) into links.
FUZZY_TLDS = "com|net|org|edu|gov|info|biz|io|dev|app|es|eu|uk|de|fr|it|pt|mx|ar|cl|co|ai|me".split("|")

MESSAGE_TAGS = {"p", "br", "em", "strong", "s", "code", "pre", "blockquote", "ul", "ol", "li", "a", "span"}


def _may_precede_mention(char: str) -> bool:
    """Whether "@" after `char` can start a mention: after a space or punctuation ("(@ana", "¿@ana",
    "**@ana"), not after a letter or digit (a@b.com) nor inside a URL (example.com/@ana)."""
    if char.isspace():
        return True
    return char not in NOT_BEFORE_MENTION and unicodedata.category(char)[0] in "PS"


def _mention_rule(state: StateInline, silent: bool) -> bool:
    """markdown-it inline rule: `@name` becomes a `mention` token. Code spans and blocks are
    parsed by their own rules, so an "@" in code never reaches this one."""
    pos = state.pos
    if state.src[pos] != "@" or (pos > 0 and not _may_precede_mention(state.src[pos - 1])):
        return False
    match = MENTION_NAME_RE.match(state.src, pos + 1)
    # A final dot ends the sentence, not the name ("thanks @ana."): such usernames can't be mentioned.
    name = match.group().rstrip(".") if match else ""
    if not name:
        return False
    if not silent:
        token = state.push("mention", "", 0)
        token.meta = {"name": name}
        token.markup = "@" + name
    state.pos += 1 + len(name)
    return True


def _url_rule(state: StateInline, silent: bool) -> bool:
    """markdown-it-py's inline linkify rule (a URL is one token, so no emphasis inside it), entered
    only after "http" or "https": its own scheme test reads all the pending text at every "://",
    which takes a quarter of a second on a 4,000-character message of "a://a://…"."""
    if not HTTP_TAIL_RE.search(state.pending[-6:]):
        return False
    return inline_linkify(state, silent)


def _render_mention(self, tokens, idx, options, env) -> str:
    """A known name (or @here) as `<span class="mention" data-mention="NAME">@NAME</span>`, or an
    `<a>` of the same class when its mapping gives a URL; an unknown name as the text typed.
    Both pieces are escaped here and sanitised again by nh3."""
    name = tokens[idx].meta["name"]
    if name.casefold() == HERE:
        return '<span class="mention mention-here" data-mention="here">@here</span>'
    known = env.get("mentions", {}).get(name.casefold())
    if known is None:
        return escapeHtml("@" + name)
    username, url = known
    attributes = f'class="mention" data-mention="{escapeHtml(username)}"'
    if url:
        return f'<a {attributes} href="{escapeHtml(url)}">@{escapeHtml(username)}</a>'
    return f"<span {attributes}>@{escapeHtml(username)}</span>"


def _render_link_open(self, tokens, idx, options, env) -> str:
    """Links from the text (bare URLs, e-mail addresses, <autolinks>) open in a new tab."""
    tokens[idx].attrSet("target", "_blank")
    tokens[idx].attrSet("rel", LINK_REL)
    return self.renderToken(tokens, idx, options, env)


def _linkifier() -> LinkifyIt:
    linkify = LinkifyIt().tlds(FUZZY_TLDS)
    # Protocol-relative (//host) and ftp: links would name schemes outside LINK_SCHEMES.
    return linkify.add("//", None).add("ftp:", None)


def _markdown() -> MarkdownIt:
    md = MarkdownIt("zero", {"breaks": True, "linkify": True, "html": False})
    md.enable(["fence", "blockquote", "list"])
    md.enable(["linkify", "newline", "escape", "backticks", "strikethrough", "emphasis", "autolink", "entity"])
    md.linkify = _linkifier()
    md.validateLink = lambda url: SAFE_LINK_RE.match(url) is not None
    md.inline.ruler.at("linkify", _url_rule)
    md.inline.ruler.push("mention", _mention_rule)
    md.add_render_rule("mention", _render_mention)
    md.add_render_rule("link_open", _render_link_open)
    return md


MARKDOWN = _markdown()

CLEANER = nh3.Cleaner(
    tags=MESSAGE_TAGS,
    attributes={"a": {"href", "data-mention"}, "span": {"data-mention"}, "ol": {"start"}},
    tag_attribute_values={"a": {"target": {"_blank"}}},
    allowed_classes={"a": {"mention"}, "span": {"mention", "mention-here"}},
    url_schemes=set(LINK_SCHEMES),
    link_rel=LINK_REL,
    strip_comments=True,
)


def _mentions_index(mentions: Mapping[str, str] | Collection[str] | None) -> dict[str, tuple[str, str]]:
    """Case-folded username -> (username, URL or ""). Sign-up refuses names that differ only in
    case or look (accounts/forms.py), so folding case finds at most one user."""
    if not mentions:
        return {}
    if isinstance(mentions, Mapping):
        return {name.casefold(): (name, url or "") for name, url in mentions.items()}
    return {name.casefold(): (name, "") for name in mentions}


def message_html(source: str, mentions: Mapping[str, str] | Collection[str] | None = None) -> str:
    """The safe HTML for a message's source text (see the module's docstring for the subset).

    `mentions` names the users that exist (and may be mentioned), matched without regard to case:
    a set of usernames renders `@carla` as `<span class="mention" data-mention="carla">@carla</span>`;
    a mapping of username to URL renders `<a class="mention" data-mention="carla" href=URL>`
    (an empty URL gives the span). Other names stay plain text; `@here` is always a mention
    (`class="mention mention-here"`). Find the names to look up with `mentioned_usernames`.

    Returns block HTML (`<p>`, `<pre>`, `<ul>`… — put it in a `<div>`, not a `<p>`), "" for blank
    source. It is allow-list sanitised (nh3), so a template may mark it safe. Pure (keeps no state
    between calls). About 0.5 ms for a 200-character message and 1.5-12 ms for 4,000 characters,
    prose to densely formatted (2-core machine, under load): render once, when the message is saved.
    Plain prose (PLAIN_RE: most chat lines) skips both layers: its HTML is `<p>source</p>`,
    the same bytes as theirs (tests/test_formatting.py holds the two to it).
    """
    if PLAIN_RE.fullmatch(source):
        return f"<p>{source}</p>"
    html = MARKDOWN.render(source, {"mentions": _mentions_index(mentions)})
    return CLEANER.clean(html).strip()


def mentioned_usernames(source: str) -> set[str]:
    """The names written as `@name` in a message's source, as typed, without the "@": what to look
    up (case-insensitively) to know whom it mentions; "here" for `@here`.

    A name is Django's username characters after an "@" that follows a space, punctuation or the
    start (not a@b.com, not example.com/@ana), minus final dots; an "@" in inline code or a code
    block is no mention. The same parse as `message_html`'s, so the two always agree.
    """
    names = set()
    if "@" not in source:
        return names
    for block in MARKDOWN.parse(source):
        for token in block.children or ():
            if token.type == "mention":
                name = token.meta["name"]
                names.add(HERE if name.casefold() == HERE else name)
    return names
