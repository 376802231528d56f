"""Helpers of the translation tests: the Spanish catalogue's statistics, compiled and loaded, and
a crude finder of template text that was not marked for translation."""

import re
import subprocess
from pathlib import Path

from django.conf import settings

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "es" / "LC_MESSAGES" / "django.po"
TEMPLATES = Path(settings.BASE_DIR) / "templates"
# Text a template may show as is, in every language: the site's name.
ALLOWED_TEXT = {"Tertulia"}
# Attributes a reader sees or hears (as text, a tooltip or an accessible name).
VISIBLE_ATTRIBUTES = ("placeholder", "aria-label", "title", "alt")


def catalogue_statistics(path: Path = CATALOGUE) -> dict[str, int]:
    """GNU msgfmt's count of the `.po` file at `path`'s entries: {"translated", "fuzzy",
    "untranslated"}. Also checks each translation's format placeholders against its msgid
    (msgfmt --check): CalledProcessError, with msgfmt's complaint, if one does not match."""
    done = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    counts = {kind: 0 for kind in ("translated", "fuzzy", "untranslated")}
    for number, kind in re.findall(r"(\d+) (translated|fuzzy|untranslated)", done.stderr):
        counts[kind] = int(number)
    return counts


def catalogue_entries(path: Path, *, only: str) -> str:
    """The entries of the `.po` file at `path` that are `only` "fuzzy" or "untranslated" (GNU
    msgattrib's output, for a failing test's message)."""
    option = {"fuzzy": "--only-fuzzy", "untranslated": "--untranslated"}[only]
    done = subprocess.run(["msgattrib", option, "--no-obsolete", str(path)], capture_output=True, text=True)
    return done.stdout


def catalogue_compile(path: Path = CATALOGUE) -> None:
    """Compile the `.po` file at `path` next to it (`.mo`) unless that is already newer, as
    `make translations` does: the tests need it when pytest runs without make. A process that
    already loaded Spanish must then reload it (the `settings` fixture's LOCALE_PATHS, set again,
    makes Django forget its catalogues)."""
    compiled = path.with_suffix(".mo")
    if not compiled.exists() or compiled.stat().st_mtime < path.stat().st_mtime:
        subprocess.run(["msgfmt", "--check", "-o", str(compiled), str(path)], check=True)


def unmarked_text(source: str, *, html: bool = True) -> list[str]:
    """The pieces of a template's `source` a reader would see that are not marked for
    translation: text between tags, and visible attributes (VISIBLE_ATTRIBUTES), once template
    comments, variables, tags (`{% translate %}` included) and `{% blocktranslate %}` blocks are
    taken out, that still hold a letter (ALLOWED_TEXT aside). `html` False: a text template,
    whose whole text is shown. Crude on purpose: a `>` inside an attribute would confuse it."""
    text = re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", " ", source, flags=re.S)
    text = re.sub(r"{#.*?#}", " ", text, flags=re.S)
    text = re.sub(r"{%\s*blocktrans(late)?\b.*?{%\s*endblocktrans(late)?\s*%}", " ", text, flags=re.S)
    text = re.sub(r"{%.*?%}|{{.*?}}", " ", text, flags=re.S)
    pieces = []
    if html:
        text = re.sub(r"<(style|script)\b.*?</\1>", " ", text, flags=re.S)
        for tag in re.findall(r"<[^>]*>", text):
            pieces += [value for _name, value in re.findall(rf"\b({'|'.join(VISIBLE_ATTRIBUTES)})=\"([^\"]*)\"", tag)]
        text = re.sub(r"<[^>]*>", "\n", text)
    pieces += text.split("\n")
    found = []
    for piece in pieces:
        if re.fullmatch(r"\s*/[\w/.\s-]*", piece):  # a path, e.g. a block giving a socket's URL
            continue
        cleaned = re.sub(r"&#?\w+;", " ", piece)
        for allowed in ALLOWED_TEXT:
            cleaned = cleaned.replace(allowed, " ")
        if re.search(r"[^\W\d_]", cleaned):
            found.append(piece.strip())
    return found
