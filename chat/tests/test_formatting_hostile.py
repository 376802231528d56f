"""Hostile message sources: nothing message_html returns can run script, load anything, or be
swapped by htmx. Vectors from the OWASP XSS filter-evasion cheat sheet, Markdown's own link forms,
and htmx's attributes; each output is read back with an HTML parser and checked against the
allow-list."""

import re
import time
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chat.formatting import message_html

ALLOWED = {
    "p": set(),
    "br": set(),
    "em": set(),
    "strong": set(),
    "s": set(),
    "code": set(),
    "pre": set(),
    "blockquote": set(),
    "ul": set(),
    "ol": {"start"},
    "li": set(),
    "a": {"href", "target", "rel", "class", "data-mention"},
    "span": {"class", "data-mention"},
}
SCHEMES = {"http", "https", "mailto", ""}  # "": a link within the site (a mention's profile page)
# What a browser ignores in a URL before reading its scheme (WHATWG URL: C0 controls, space, tab, newline).
IGNORED_IN_URL = re.compile(r"[\x00-\x20]")


class Elements(HTMLParser):
    """Every start tag in a fragment, with its attributes (values unescaped, as a browser reads them)."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def assert_inert(html: str) -> None:
    """No tag, attribute or URL scheme outside the allow-list; nothing htmx would act on."""
    for tag, attributes in Elements(html).found:
        assert tag in ALLOWED, f"tag <{tag}> in {html!r}"
        for name, value in attributes.items():
            assert name in ALLOWED[tag], f"<{tag} {name}> in {html!r}"
            assert not name.startswith(("on", "hx-", "ws-", "data-hx", "id", "style")), html
            if name == "href":
                scheme = urlsplit(IGNORED_IN_URL.sub("", value or "")).scheme.lower()
                assert scheme in SCHEMES, f"href {value!r} in {html!r}"
            if name == "target":
                assert value == "_blank"
            if name == "class":
                assert set((value or "").split()) <= {"mention", "mention-here"}


HOSTILE = [
    "<script>alert('XSS')</script>",
    "<SCRIPT SRC=https://cdn.example.com/xss.js></SCRIPT>",
    '<<SCRIPT>alert("XSS");//\\<</SCRIPT>',
    "javascript:/*--></title></style></textarea></script></xmp><svg/onload='+/\"/+/onmouseover=1/+/[*/[]/+alert(1)//'>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;"
    "&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>",
    "<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A"
    "&#x61&#x6C&#x65&#x72&#x74&#x28&#x27&#x58&#x53&#x53&#x27&#x29>",
    "<IMG SRC=\"jav&#x0A;ascript:alert('XSS');\">",
    "<img src=x onerror=alert(1)>",
    '<IMG """><SCRIPT>alert("XSS")</SCRIPT>"\\>',
    "<svg onload=alert(1)>",
    "<svg/onload=alert('XSS')>",
    "<BODY ONLOAD=alert('XSS')>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<a href="javas&#x09;cript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<META HTTP-EQUIV="refresh" CONTENT="0;url=javascript:alert(\'XSS\');">',
    "<STYLE>li {list-style-image: url(\"javascript:alert('XSS')\");}</STYLE><UL><LI>XSS</br>",
    "<DIV STYLE=\"background-image: url(javascript:alert('XSS'))\">",
    "<TABLE BACKGROUND=\"javascript:alert('XSS')\">",
    '<LINK REL="stylesheet" HREF="javascript:alert(\'XSS\');">',
    '<OBJECT TYPE="text/x-scriptlet" DATA="https://example.com/scriptlet.html"></OBJECT>',
    '<EMBED SRC="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<!--<script>alert(1)</script>-->",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](javas%09cript:alert(1))",
    "[x](data:text/html,<script>alert(1)</script>)",
    "[x][r]\n\n[r]: javascript:alert(1)",
    "![x](javascript:alert(1))",
    '![x](x" onerror="alert(1))',
    "<javascript:alert(1)>",
    "<JAVASCRIPT:alert(1)>",
    "<data:text/html,alert(1)>",
    "<vbscript:msgbox(1)>",
    "javascript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    'https://example.com/"onmouseover="alert(1)',
    "https://example.com/<img src=x onerror=alert(1)>",
    '<div hx-get="/x" hx-trigger="load">',
    '<div id="messages" hx-swap-oob="beforeend"><p>fake</p></div>',
    '<span id="cursor" hx-swap-oob="true">9999</span>',
    '<form ws-send><input name="message" value="x"></form>',
    '<div data-hx-get="/x" data-hx-trigger="load">',
    '<a hx-post="/accounts/logout/" hx-trigger="load">x</a>',
    '<div hx-on:click="alert(1)">',
    '<template><div hx-get="/x" hx-trigger="load"></div></template>',
    "**<div hx-get=/x hx-trigger=load>** `<div hx-get=/x>`\n```\n<div id=messages>\n```",
    "@<img src=x onerror=alert(1)>",
    "@carla<script>alert(1)</script>",
]


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_source_gives_only_allowed_tags_attributes_and_schemes(source):
    """Nothing in the output runs script, loads a resource or carries an htmx attribute or id."""
    html = message_html(source, {"carla": "", "bob": "/people/bob/"})
    assert_inert(html)
    assert not re.search(r"<(script|img|svg|iframe|div|form|input|style|meta|link)\b", html, re.I)


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", " JaVaScRiPt:alert(1)", "vbscript:x"])
def test_a_hostile_url_given_for_a_mention_is_dropped_by_the_sanitiser(url):
    """The mention map comes from the server, but a bad URL in it is still not let through."""
    html = message_html("@carla", {"carla": url})
    assert_inert(html)
    assert 'data-mention="carla"' in html


def test_raw_html_is_shown_as_the_text_typed():
    """Escaped, not removed: the reader sees what was sent."""
    html = message_html('<div id="messages" hx-swap-oob="beforeend">x</div>')
    assert html == '<p>&lt;div id="messages" hx-swap-oob="beforeend"&gt;x&lt;/div&gt;</p>'


MARKUP = "<>\"'`*_~[]()!#:/@&;=%\\ \n\tjavscriptdaonerhxgwid.-1"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=MARKUP, max_size=120))
def test_any_mix_of_markup_characters_gives_only_allowed_output(source):
    """Generated sources, biased to HTML, Markdown and URL punctuation, stay within the allow-list."""
    assert_inert(message_html(source, {"hx": "", "id": "/u/id/"}))


@pytest.mark.parametrize(
    "source",
    ["a://" * 1000, "http:// " * 500, "*a" * 2000, "a_" * 2000, "[" * 4000, "a.com " * 666, "x@y.com " * 500],
    ids=["schemes", "empty-urls", "stars", "underscores", "brackets", "domains", "emails"],
)
def test_a_pathological_message_of_the_longest_allowed_size_renders_in_well_under_a_second(source):
    """No input of Message.BODY_MAX_LENGTH characters makes the parser backtrack for long
    (typically 10-100 ms here; a regular-expression blow-up would take seconds)."""
    started = time.perf_counter()
    assert_inert(message_html(source[:4000]))
    assert time.perf_counter() - started < 1.0
