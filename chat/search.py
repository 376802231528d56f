"""Message search: a query's terms (`search_terms_parse`) and one page of the messages a user may
read that match them (`message_search`), each database with its own full-text engine.

The indexes are made by chat/migrations/0005_message_search.py:
- PostgreSQL: a stored `to_tsvector('tertulia_search', body)` column under a GIN index. The
  configuration is 'simple' after `unaccent`: lower-cased, accents folded, no stemming and no
  stopwords. Rooms mix Spanish and English, and a message's language is not known, so a
  per-language stemmer would stem half of them wrongly; without stopwords, "de la" and "the who"
  are phrases like any other; people type "cancion" for "canción". What it gives up:
  "corriendo" does not find "correr". (SearchHeadline is not used: see below.)
- MariaDB/MySQL: an InnoDB FULLTEXT index, MATCH ... AGAINST in boolean mode. InnoDB leaves out
  words shorter than 3 characters and its stopwords: those are matched with REGEXP instead.
- SQLite: an FTS5 table (unicode61, diacritics removed) kept up to date by triggers.
The highlighted snippet is built in Python (chat/snippets.py), the same on every database, from
the words the parser found (ts_headline would parse every hit's body again, on PostgreSQL only).
"""

import re
from dataclasses import dataclass
from functools import reduce
from operator import and_

from django.contrib.postgres.search import SearchQuery, SearchVectorField
from django.db import connections
from django.db.models import FloatField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.safestring import SafeString

from .models import Message, Room
from .selectors import room_titles, rooms_visible_to
from .snippets import WORD, snippet_render, text_fold

PAGE_SIZE = 20
# Deeper pages would cost an OFFSET over every match before them.
MAX_PAGE = 500
QUERY_MAX_LENGTH = 256
PG_CONFIG = "tertulia_search"
# InnoDB's defaults (innodb_ft_min_token_size, INFORMATION_SCHEMA.INNODB_FT_DEFAULT_STOPWORD):
# a required word the index left out would match nothing at all.
INNODB_MIN_WORD = 3
INNODB_STOPWORDS = frozenset(
    "a about an are as at be by com de en for from how i in is it la of on or that the this to und was what "
    "when where who will with www".split()
)

TOKEN = re.compile(r'(?P<key>from|in):(?:"(?P<quoted>[^"]*)"?|(?P<value>\S+))|"(?P<phrase>[^"]*)"?|(?P<word>\S+)', re.I)


@dataclass(frozen=True)
class SearchTerms:
    """What a query asks for: every word in `words` and every phrase in `phrases` (words, one
    space between them), by the user called `author`, in the room whose slug or name is `room`."""

    words: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    author: str | None = None
    room: str | None = None

    def __bool__(self) -> bool:
        return bool(self.words or self.phrases or self.author or self.room)


def search_terms_parse(query: str) -> SearchTerms:
    """The terms of `query` (at most QUERY_MAX_LENGTH characters of it are read), a pure function.

    Words are runs of letters and digits (`\\w+`: "e-mail" is "e" and "mail"), all required;
    "two words" in double quotes is a phrase (an unclosed quote runs to the end; one word in
    quotes is a word); `from:ana` (or `from:@ana`) names the author, `in:lobby` or
    `in:"Café año"` the room; the last of each wins. Repeated words count once.
    """
    words: dict[str, str] = {}
    phrases: dict[str, str] = {}
    author = room = None
    for token in TOKEN.finditer(query[:QUERY_MAX_LENGTH]):
        if token["key"]:
            value = (token["quoted"] if token["quoted"] is not None else token["value"]).strip()
            if token["key"].lower() == "from":
                author = value.lstrip("@") or author
            else:
                room = value or room
            continue
        found = WORD.findall(token["phrase"] if token["phrase"] is not None else token["word"])
        if len(found) > 1 and token["phrase"] is not None:
            phrases.setdefault(text_fold(" ".join(found)), " ".join(found))
        else:
            words.update((text_fold(word), word) for word in found if text_fold(word) not in words)
    return SearchTerms(tuple(words.values()), tuple(phrases.values()), author, room)


@dataclass(frozen=True)
class SearchHit:
    """A message found: its room, the room's title as the reader sees it (a direct
    conversation's is the other people's names) and `snippet`, HTML: the body's escaped text
    around the first match, each match in <mark>."""

    message: Message
    room: Room
    title: str
    snippet: SafeString


@dataclass(frozen=True)
class SearchPage:
    """Page `number` (from 1) of a search's hits, newest first."""

    query: str
    terms: SearchTerms
    hits: list[SearchHit]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1


def message_search(*, user, query: str, page: int = 1, per_page: int | None = None) -> SearchPage:
    """Page `page` (1 to MAX_PAGE; outside, the nearest) of the messages `user` may read that
    match `query` (search_terms_parse), `per_page` of them (default PAGE_SIZE), newest first
    (`created_at`, then id).

    Only rooms `user` may open are searched (selectors.rooms_visible_to: public rooms, and the
    private rooms and direct conversations they are a member of). A query with no terms finds
    nothing. There is no count, only `has_next` (one row more is read): counting every match of
    a common word would cost more than the page. Two or three queries.
    """
    terms = search_terms_parse(query)
    page, per_page = min(max(page, 1), MAX_PAGE), per_page or PAGE_SIZE
    if not terms:
        return SearchPage(query, terms, [], page, False)
    offset = (page - 1) * per_page
    rows = list(_found(user, terms)[offset : offset + per_page + 1])
    titles = room_titles(list({message.room_id: message.room for message in rows[:per_page]}.values()), user)
    hits = [
        SearchHit(m, m.room, titles[m.room_id], snippet_render(body=m.body, words=terms.words, phrases=terms.phrases))
        for m in rows[:per_page]
    ]
    return SearchPage(query, terms, hits, page, len(rows) > per_page)


def _found(user, terms: SearchTerms) -> QuerySet:
    """The messages `user` may read that match `terms`, newest first, rooms and authors joined."""
    messages = Message.objects.filter(room__in=rooms_visible_to(user)).select_related("room", "author__profile")
    if terms.author:
        messages = messages.filter(author__username__iexact=terms.author)
    if terms.room:
        key = Room.key_for(terms.room)
        named = Q(room__slug=key) | Q(room__name_key=key) | Q(room__is_private=True, room__name__iexact=terms.room)
        messages = messages.filter(named)
    if terms.words or terms.phrases:
        messages = _matching(messages, terms)
    return messages.order_by("-created_at", "-id")


def _matching(messages: QuerySet, terms: SearchTerms) -> QuerySet:
    """`messages` narrowed to those whose body has every word and phrase of `terms`."""
    vendor = connections[messages.db].vendor
    if vendor == "postgresql":
        # A column PostgreSQL computes from the body (migration 0005), unknown to the model.
        messages = messages.alias(found=RawSQL("chat_message.search_vector", [], output_field=SearchVectorField()))
        queries = [SearchQuery(phrase, search_type="phrase", config=PG_CONFIG) for phrase in terms.phrases]
        if terms.words:
            queries.append(SearchQuery(" ".join(terms.words), search_type="plain", config=PG_CONFIG))
        messages = messages.filter(found=reduce(and_, queries))
        # The planner takes a phrase to be as common as its words together, and then walks the
        # newest messages for one that is rare: the words again, a second condition, lower its
        # guess towards the index (p99 of phrases 185 -> 88 ms in bench/search.py).
        for phrase in terms.phrases:
            messages = messages.filter(found=SearchQuery(phrase, config=PG_CONFIG))
        return messages
    if vendor == "mysql":
        return _matching_innodb(messages, terms)
    if vendor == "sqlite":
        match = " ".join(f'"{term}"' for term in (*terms.phrases, *terms.words))  # \w+ only: nothing to escape
        fts = "SELECT rowid FROM chat_message_fts WHERE chat_message_fts MATCH %s"
        return messages.filter(pk__in=RawSQL(fts, [match]))
    for term in (*terms.phrases, *terms.words):
        messages = messages.filter(body__icontains=term)
    return messages


def _matching_innodb(messages: QuerySet, terms: SearchTerms) -> QuerySet:
    """_matching on MariaDB/MySQL: MATCH for the terms InnoDB indexed, REGEXP for the others."""
    indexed, others = [], []
    for term in (*terms.phrases, *terms.words):
        seen = any(len(word) >= INNODB_MIN_WORD and word.casefold() not in INNODB_STOPWORDS for word in term.split())
        (indexed if seen else others).append(term)
    if indexed:
        against = " ".join(f'+"{term}"' for term in indexed)  # \w+ only: no operator inside quotes
        match = "MATCH (chat_message.body) AGAINST (%s IN BOOLEAN MODE)"
        # MATCH gives a relevance, 0 for no match (Django would compare a boolean with TRUE, i.e. 1).
        messages = messages.alias(relevance=RawSQL(match, [against], output_field=FloatField())).filter(relevance__gt=0)
    for term in others:
        messages = messages.filter(body__iregex=r"\b" + r"\W+".join(term.split()) + r"\b")
    return messages
