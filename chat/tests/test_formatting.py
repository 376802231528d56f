"""Message formatting (chat/formatting.py): each construct of the subset, what stays text, mentions."""

import random

import pytest

from chat.formatting import CLEANER, MARKDOWN, PLAIN_RE, mentioned_usernames, message_html

LINK_ATTRIBUTES = 'target="_blank" rel="nofollow noopener noreferrer"'


def link(url: str) -> str:
    """A bare URL as message_html links it."""
    return f'<a href="{url}" {LINK_ATTRIBUTES}>{url}</a>'


def test_emphasis_bold_strike_and_inline_code_are_formatted():
    """The inline marks people type in chats become their tags."""
    html = message_html("*it* _also_ **bold** ~~gone~~ `a < b`")
    assert html == "<p><em>it</em> <em>also</em> <strong>bold</strong> <s>gone</s> <code>a &lt; b</code></p>"


def test_a_single_newline_is_a_line_break_and_a_blank_line_a_new_paragraph():
    """Chat users expect Enter to mean a new line, not CommonMark's soft wrap."""
    assert message_html("one\ntwo\n\nthree") == "<p>one<br>\ntwo</p>\n<p>three</p>"


def test_fenced_code_keeps_its_whitespace_and_its_text_unformatted():
    """Indentation, tabs and blank lines in a code block reach the page as typed; no emphasis."""
    source = "```python\ndef f(x):\n\treturn x  *  2\n\n  # **not bold** @carla\n```"
    html = message_html(source, {"carla"})
    assert html == "<pre><code>def f(x):\n\treturn x  *  2\n\n  # **not bold** @carla\n</code></pre>"


def test_block_quotes_and_lists_are_formatted():
    """Quotes, bulleted and numbered lists (a numbered list may start anywhere)."""
    assert message_html("> said\n> twice") == "<blockquote>\n<p>said<br>\ntwice</p>\n</blockquote>"
    assert message_html("- a\n- b") == "<ul>\n<li>a</li>\n<li>b</li>\n</ul>"
    assert message_html("3. c\n4. d") == '<ol start="3">\n<li>c</li>\n<li>d</li>\n</ol>'


def test_a_bare_url_becomes_a_link_that_opens_apart_and_leaves_the_final_dot_out():
    """Bare URLs are links with rel="nofollow noopener noreferrer" and target="_blank"."""
    html = message_html("see https://example.com/a_b_c?q=1. ok")
    assert html == f"<p>see {link('https://example.com/a_b_c?q=1')}. ok</p>"


def test_www_addresses_known_domains_and_email_addresses_become_links_but_file_names_do_not():
    """Fuzzy links only for common top-level domains: models.py and README.md stay text."""
    html = message_html("www.example.org, tertulia.es, ana@example.com, models.py, README.md")
    assert link("http://www.example.org").replace(">http://", ">") in html
    assert link("http://tertulia.es").replace(">http://", ">") in html
    assert link("mailto:ana@example.com").replace(">mailto:", ">") in html
    assert html.endswith(", models.py, README.md</p>")


def test_an_autolink_in_angle_brackets_is_a_link():
    """`<https://…>`, as mail clients paste it, is a link like a bare URL."""
    assert message_html("<https://example.com>") == f"<p>{link('https://example.com')}</p>"


@pytest.mark.parametrize(
    "source, html",
    [
        ("# not a heading", "<p># not a heading</p>"),
        ("Title\n===", "<p>Title<br>\n===</p>"),
        ("---", "<p>---</p>"),
        ("| a | b |\n|---|---|", "<p>| a | b |<br>\n|---|---|</p>"),
        ("[docs](https://example.com)", f"<p>[docs]({link('https://example.com')})</p>"),
        ("![cat](https://example.com/c.png)", f"<p>![cat]({link('https://example.com/c.png')})</p>"),
        ("[ref]: https://example.com", f"<p>[ref]: {link('https://example.com')}</p>"),
        ("<b>bold</b> &amp; <!-- c -->", "<p>&lt;b&gt;bold&lt;/b&gt; &amp; &lt;!-- c --&gt;</p>"),
        ("\\*not italic\\*", "<p>*not italic*</p>"),
    ],
)
def test_headings_rules_tables_links_images_and_raw_html_stay_the_text_typed(source, html):
    """Outside the subset: shown as typed (raw HTML escaped), a URL in it still a bare link."""
    assert message_html(source) == html


def _parsed(source: str) -> str:
    """message_html's HTML by its two layers, as it is for text that is not plain prose."""
    return CLEANER.clean(MARKDOWN.render(source, {"mentions": {}})).strip()


def test_plain_prose_skips_the_parsers_and_gets_their_bytes():
    """Text PLAIN_RE takes (words in any script, digits, , ; ! ? ¿ ¡ ' and single spaces) is
    wrapped in a paragraph without Markdown or the sanitiser: for 3,000 random lines of those
    characters, the result is byte for byte the parsers' own."""
    generator = random.Random(20261123)
    alphabet = "abcXYZ019 ,;!?¿¡'áÉñßçøлд漢字١٢²"
    taken = 0
    for _ in range(3000):
        source = "".join(generator.choice(alphabet) for _ in range(generator.randint(1, 30)))
        if PLAIN_RE.fullmatch(source):
            taken += 1
            assert message_html(source) == _parsed(source) == f"<p>{source}</p>", source
    assert taken > 300  # the generator made plain lines, not only others
    assert message_html("¿Qué tal, Ñandú? ¡Bien! it's 2026") == "<p>¿Qué tal, Ñandú? ¡Bien! it's 2026</p>"


@pytest.mark.parametrize(
    "source",
    [
        "a.b",
        "see example.com",
        "a_b_",
        "*a*",
        "~~a~~",
        "`a`",
        "a&amp;",
        "<b>",
        'a "b"',
        "# a",
        "- a",
        "1) a",
        "a\nb",
        "a  b",
        " a",
        "a ",
        "@ana",
        "http://a",
        "a\u00a0b",
        "a\u200bb",
        "a\u0301",
        "a\\b",
        "> a",
        "a:b",
    ],
)
def test_text_with_any_special_character_takes_the_parsers(source):
    """Anything beyond plain prose (a character Markdown, linkify or HTML treats apart, a line
    break, a doubled or edge space, an invisible or combining character) is parsed as before."""
    assert not PLAIN_RE.fullmatch(source)
    assert message_html(source) == _parsed(source)


def test_blank_source_gives_empty_html():
    """Nothing to show is an empty string, not an empty paragraph."""
    assert message_html("") == ""
    assert message_html(" \n\n ") == ""


def test_a_known_user_mentioned_becomes_a_mention_span_and_an_unknown_one_stays_text():
    """Known names (matched without regard to case) are highlighted under their username."""
    html = message_html("hi @Carla and @nobody", {"carla"})
    assert html == '<p>hi <span class="mention" data-mention="carla">@carla</span> and @nobody</p>'


def test_a_mention_mapped_to_a_url_becomes_a_mention_link():
    """With a URL for the user, the mention is a link of the same class, opening in the same tab."""
    html = message_html("@bob!", {"bob": "/people/bob/"})
    assert html == (
        '<p><a class="mention" data-mention="bob" href="/people/bob/" rel="nofollow noopener noreferrer">@bob</a>!</p>'
    )


def test_here_is_always_a_mention_of_everyone_present():
    """@here needs no user list: it is a keyword (and a reserved username)."""
    assert message_html("@here look") == (
        '<p><span class="mention mention-here" data-mention="here">@here</span> look</p>'
    )


def test_mentions_inside_emphasis_and_punctuation_are_found_but_not_in_code_urls_or_emails():
    """A mention follows a space, punctuation or the start; code, URLs and addresses are no mentions."""
    source = "**@ana**, ¿@bea? (@cai) `@dan` x@eve.com https://example.com/@fay @gil. @h_i-j+k@l.m"
    assert mentioned_usernames(source) == {"ana", "bea", "cai", "gil", "h_i-j+k@l.m"}
    html = message_html(source, {"ana", "dan", "eve", "fay", "gil"})
    assert html.count('class="mention"') == 2
    assert "<code>@dan</code>" in html
    assert 'href="https://example.com/@fay"' in html
    assert '<span class="mention" data-mention="gil">@gil</span>.' in html


def test_mentioned_usernames_ignores_code_blocks_and_reports_here():
    """Names in a fenced block are code; @here is reported as "here"."""
    assert mentioned_usernames("```\n@ana\n```\n@HERE and @bob") == {"here", "bob"}
    assert mentioned_usernames("no one, a@b.com, @ alone, @.") == set()
