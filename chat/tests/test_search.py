"""Message search (chat/search.py): the query parser alone, then the service and its page on the
database under test, whichever it is (PostgreSQL, MariaDB or SQLite: each has its own engine)."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from chat.rooms import room_create_private, room_get_or_create, room_get_or_create_direct
from chat.search import SearchTerms, message_search, search_terms_parse
from chat.snippets import snippet_render
from chat.tests.support import add_message, logged_in

# InnoDB's full-text index sees a row only once its transaction has committed.
db = pytest.mark.django_db(transaction=True)


def found(user, query: str, **kwargs) -> list[str]:
    """The bodies of the messages `user` finds with `query`, in the order found."""
    return [hit.message.body for hit in message_search(user=user, query=query, **kwargs).hits]


def post(author, *bodies: str, room: str = "Lobby") -> list:
    """Messages by `author` in the public room called `room`, oldest first."""
    return [add_message(room_get_or_create(name=room)[0], author, body) for body in bodies]


def test_query_parses_into_words_phrases_author_and_room():
    terms = search_terms_parse('hola "buenos  días" from:@ana in:"Café año" mundo')
    assert terms == SearchTerms(words=("hola", "mundo"), phrases=("buenos días",), author="ana", room="Café año")


def test_punctuation_splits_words_and_one_quoted_word_is_a_word():
    assert search_terms_parse('e-mail "solo" ¿qué?') == SearchTerms(words=("e", "mail", "solo", "qué"))


def test_an_unclosed_quote_runs_to_the_end_of_the_query():
    assert search_terms_parse('in:lobby "quick brown fox').phrases == ("quick brown fox",)


def test_repeated_words_count_once_whatever_their_case_or_accents():
    assert search_terms_parse("Canción cancion CANCIÓN").words == ("Canción",)


def test_the_last_author_and_room_win_and_a_bare_prefix_is_a_word():
    terms = search_terms_parse("from:ana from:bea in:a in:b from:")
    assert (terms.author, terms.room, terms.words) == ("bea", "b", ("from",))


def test_an_empty_query_has_no_terms_and_finds_nothing(people):
    assert not search_terms_parse("  ¡!  ")
    assert message_search(user=people[0], query="   ").hits == []


@db
def test_private_rooms_and_direct_conversations_are_searched_for_their_members_only(people):
    ana, bea, cy = people
    plans = room_create_private(name="Plans", creator=ana)
    add_message(plans, ana, "The secret plan for friday")
    direct, _ = room_get_or_create_direct(starter=ana, usernames=["bea"])
    add_message(direct, bea, "Another secret between us")
    post(cy, "No secret here")

    assert found(ana, "secret") == ["No secret here", "Another secret between us", "The secret plan for friday"]
    assert found(bea, "secret") == ["No secret here", "Another secret between us"]
    assert found(cy, "secret") == ["No secret here"]
    assert found(cy, "secret in:plans") == found(cy, f"in:{plans.slug}") == []


@db
def test_every_word_must_match_whatever_its_case_or_accents(people):
    post(people[0], "La Canción de la MAÑANA", "una canción nueva")

    assert found(people[1], "cancion manana") == ["La Canción de la MAÑANA"]
    assert found(people[1], "CANCIÓN") == ["una canción nueva", "La Canción de la MAÑANA"]
    assert found(people[1], "cancion tarde") == []


@db
def test_short_words_and_common_words_are_searched_too(people):
    """Words InnoDB's index leaves out (under 3 letters, its stopwords) are found on every database."""
    post(people[0], "la casa de papel", "the lamp is on")

    assert found(people[1], "la") == ["la casa de papel"]
    assert found(people[1], "the on") == ["the lamp is on"]
    assert found(people[1], '"de papel"') == ["la casa de papel"]


@db
def test_a_phrase_matches_its_words_together_and_in_order(people):
    post(people[0], "the quick brown fox", "a brown and quick fox")

    assert found(people[1], '"quick brown"') == ["the quick brown fox"]
    assert found(people[1], '"brown quick"') == []
    assert found(people[1], "brown quick") == ["a brown and quick fox", "the quick brown fox"]


@db
def test_from_and_in_narrow_to_an_author_and_a_room_by_slug_or_name(people):
    ana, bea, _cy = people
    post(ana, "lunch at noon")
    post(bea, "lunch at one", room="Café año")

    assert found(ana, "lunch from:BEA") == found(ana, "lunch from:@bea") == ["lunch at one"]
    assert found(ana, "lunch in:lobby") == ["lunch at noon"]
    assert found(ana, 'in:"café  AÑO"') == found(ana, "in:cafe-ano") == ["lunch at one"]
    assert found(ana, "from:nobody") == []


@db
def test_the_snippet_is_escaped_text_with_only_the_matches_marked(people):
    post(people[0], '<script>alert("x")</script> <mark>fake</mark> secreto & <b>mark</b>')

    (hit,) = message_search(user=people[1], query="secreto mark").hits

    assert hit.snippet == (
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &lt;<mark>mark</mark>&gt;fake&lt;/"
        "<mark>mark</mark>&gt; <mark>secreto</mark> &amp; &lt;b&gt;<mark>mark</mark>&lt;/b&gt;"
    )
    page = logged_in(people[1]).get("/chat/search/", {"q": "secreto mark"}).content.decode()
    assert hit.snippet in page
    assert "<script>alert" not in page and "<mark>fake" not in page


def test_a_snippet_marks_a_phrase_whole_and_words_whatever_their_accents():
    snippet = snippet_render(body="Buenos días: la CANCIÓN, buenos  dias", words=["cancion"], phrases=["buenos dias"])
    assert snippet == "<mark>Buenos días</mark>: la <mark>CANCIÓN</mark>, <mark>buenos  dias</mark>"


def test_a_snippet_with_no_match_is_the_start_of_the_message():
    assert snippet_render(body="<i>hola</i> " * 30) == "&lt;i&gt;hola&lt;/i&gt; " * 19 + "&lt;i&gt;hola&lt;/i&gt;…"


@db
def test_a_long_message_is_cut_around_its_first_match(people):
    post(people[0], "word " * 100 + "needle " + "word " * 100)

    snippet = message_search(user=people[1], query="needle").hits[0].snippet

    assert snippet.startswith("…word ") and snippet.endswith("word…")
    assert "<mark>needle</mark>" in snippet and len(snippet) < 300


@db
def test_pages_go_from_newest_to_oldest(people):
    lobby = room_get_or_create(name="Lobby")[0]
    start = timezone.now() - datetime.timedelta(days=1)
    for n in range(5):
        add_message(lobby, people[0], f"note {n}", created_at=start + datetime.timedelta(minutes=n))

    pages = [message_search(user=people[1], query="note", page=n, per_page=2) for n in (1, 2, 3)]

    assert [[hit.message.body for hit in page.hits] for page in pages] == [
        ["note 4", "note 3"],
        ["note 2", "note 1"],
        ["note 0"],
    ]
    assert [(page.has_previous, page.has_next) for page in pages] == [(False, True), (True, True), (True, False)]


@db
def test_an_edited_message_is_found_by_its_new_words_only(people):
    (message,) = post(people[0], "typo teh")
    message.body = "typo fixed"
    message.save(update_fields=["body"])

    assert found(people[1], "teh") == []
    assert found(people[1], "fixed") == ["typo fixed"]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's full-text table is kept by triggers")
@db
def test_sqlite_keeps_its_search_triggers_through_every_migration():
    """Django remakes a table on SQLite for many column changes, dropping its triggers: a later
    migration of chat_message must recreate those of 0005_message_search."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'chat_message'")
        triggers = {name for (name,) in cursor.fetchall()}
    assert {"chat_message_fts_insert", "chat_message_fts_delete", "chat_message_fts_update"} <= triggers


@db
def test_search_page_links_each_hit_to_its_message_and_keeps_the_query_in_page_links(people, monkeypatch):
    monkeypatch.setattr("chat.search.PAGE_SIZE", 1)
    older, newer = post(people[0], "hello there", "hello again")
    client = logged_in(people[1])

    first = client.get("/chat/search/", {"q": '"hello"'}).content.decode()
    second = client.get("/chat/search/", {"q": "hello", "page": "2"}).content.decode()

    assert f'href="/chat/lobby/m/{newer.seq}/"' in first and f'href="/chat/lobby/m/{older.seq}/"' not in first
    assert 'href="?q=%22hello%22&amp;page=2"' in first and 'value="&quot;hello&quot;"' in first
    assert f'href="/chat/lobby/m/{older.seq}/"' in second
    assert client.get("/chat/search/", {"q": "hello", "page": "x"}).status_code == 200


def test_search_is_a_reserved_room_slug(db):
    assert room_get_or_create(name="Search")[0].slug == "search-2"
