"""A found message's snippet: its text around the first match, escaped, each match in <mark>,
built in Python the same for every database (chat/search.py)."""

import re
import unicodedata
from collections.abc import Iterable

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString

SNIPPET_LEAD, SNIPPET_WIDTH = 60, 240
WORD = re.compile(r"\w+")


def text_fold(text: str) -> str:
    """`text` as the search indexes compare it: case-folded, accents removed ("Canción" ->
    "cancion")."""
    if text.isascii():  # most words: the same result, ten times faster
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _marks(body: str, words: Iterable[str], phrases: Iterable[str]) -> list[tuple[int, int]]:
    """Where in `body` `words` and `phrases` (words, one space between them) are, as sorted,
    non-overlapping (start, end) character spans."""
    tokens = [(token.start(), token.end(), text_fold(token.group())) for token in WORD.finditer(body)]
    keys = [key for _start, _end, key in tokens]
    wanted_words = {text_fold(word) for word in words}
    spans = [(start, end) for start, end, key in tokens if key in wanted_words]
    for phrase in phrases:
        wanted = text_fold(phrase).split()
        for i in range(len(tokens) - len(wanted) + 1):
            if keys[i : i + len(wanted)] == wanted:
                spans.append((tokens[i][0], tokens[i + len(wanted) - 1][1]))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def snippet_render(*, body: str, words: Iterable[str] = (), phrases: Iterable[str] = ()) -> SafeString:
    """HTML: up to about SNIPPET_WIDTH characters of `body` (a message's text) from a little
    before the first of `words` or `phrases` in it (whatever their case or accents), escaped,
    each of them wrapped in <mark>; "…" where text was cut; without a match, the start of
    `body`. Every piece of user text passes through `escape` (a SafeString plus a SafeString
    stays safe): nothing is marked safe."""
    marks = _marks(body, words, phrases)
    first_start, first_end = marks[0] if marks else (0, 0)
    start = max(0, first_start - SNIPPET_LEAD)
    if start:  # begin at a word
        space = body.find(" ", start, first_start)
        start = space + 1 if space >= 0 else first_start
    end = min(len(body), max(start + SNIPPET_WIDTH, first_end))
    if end < len(body):
        space = body.rfind(" ", first_end, end)
        end = space if space >= 0 else end
    html = SafeString("…" if start else "")
    position = start
    for mark_start, mark_end in marks:
        if mark_start >= position and mark_end <= end:
            html += escape(body[position:mark_start]) + format_html("<mark>{}</mark>", body[mark_start:mark_end])
            position = mark_end
    return html + escape(body[position:end]) + SafeString("…" if end < len(body) else "")
