"""Full-text search over messages' bodies, each database with its own engine (chat/search.py):

- PostgreSQL: a text search configuration `tertulia_search`, 'simple' (no stemming, no
  stopwords: one configuration for Spanish and English alike) with `unaccent` before it, and a
  column `search_vector` that PostgreSQL computes from the body (generated, stored; the model
  does not know it) under a GIN index. Stored rather than an expression index: to_tsvector takes
  about 24 µs a message here, and a plan that walks messages newest first (a common word with
  from: or in:, a phrase) parses again every message it passes, while a stored vector is read in
  0.3 µs. Over bench/search.py's million messages the expression index's p99 was 240 ms for
  from: with a word and 19 s for phrases. Adding the column rewrites the table; changing
  `body`'s type would need the column dropped first. `unaccent` is a trusted extension from
  PostgreSQL 13: the database's owner may create it.
- MariaDB/MySQL: an InnoDB FULLTEXT index.
- SQLite: an FTS5 table over chat_message's bodies (external content), kept up to date by
  triggers. Django remakes a table on SQLite for many column changes, dropping its triggers:
  chat/tests/test_search.py fails if a later migration loses them (recreate them there).

Nothing here changes the models' state, so makemigrations sees no difference.
"""

from django.db import migrations

PG_CONFIG = "tertulia_search"


class RunSQLOn(migrations.RunSQL):
    """RunSQL that runs only on databases of one `vendor` ("postgresql", "mysql", "sqlite")."""

    def __init__(self, vendor: str, *args, **kwargs):
        self.vendor = vendor
        super().__init__(*args, **kwargs)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_backwards(app_label, schema_editor, from_state, to_state)


POSTGRESQL = RunSQLOn(
    "postgresql",
    [
        "CREATE EXTENSION IF NOT EXISTS unaccent",
        f"CREATE TEXT SEARCH CONFIGURATION {PG_CONFIG} (COPY = simple)",
        # Only these token types can carry accents ("asciiword" and the like cannot).
        f"ALTER TEXT SEARCH CONFIGURATION {PG_CONFIG} ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple",
        "ALTER TABLE chat_message ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
        f"(to_tsvector('{PG_CONFIG}'::regconfig, COALESCE(body, ''))) STORED",
        "CREATE INDEX chat_message_search_vector ON chat_message USING gin (search_vector)",
        # ANALYZE keeps the 10,000 most common words (100 by default): a word it did not keep is
        # taken as rarer than the rarest it kept, so the planner finds rare words by the index
        # instead of walking the newest messages (bench/search.py's p99 for rare words: 145 -> 28 ms).
        "ALTER TABLE chat_message ALTER COLUMN search_vector SET STATISTICS 1000",
    ],
    [
        "DROP INDEX IF EXISTS chat_message_search_vector",
        "ALTER TABLE chat_message DROP COLUMN IF EXISTS search_vector",
        f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {PG_CONFIG}",
    ],
)

MYSQL = RunSQLOn(
    "mysql",
    ["ALTER TABLE chat_message ADD FULLTEXT INDEX chat_message_body_fulltext (body)"],
    ["ALTER TABLE chat_message DROP INDEX chat_message_body_fulltext"],
)

SQLITE = RunSQLOn(
    "sqlite",
    [
        # remove_diacritics 2: "cancion" finds "Canción", as unaccent does on PostgreSQL.
        "CREATE VIRTUAL TABLE chat_message_fts USING fts5("
        "body, content='chat_message', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
        "CREATE TRIGGER chat_message_fts_insert AFTER INSERT ON chat_message BEGIN "
        "INSERT INTO chat_message_fts(rowid, body) VALUES (new.id, new.body); END",
        "CREATE TRIGGER chat_message_fts_delete AFTER DELETE ON chat_message BEGIN "
        "INSERT INTO chat_message_fts(chat_message_fts, rowid, body) VALUES ('delete', old.id, old.body); END",
        "CREATE TRIGGER chat_message_fts_update AFTER UPDATE OF body ON chat_message BEGIN "
        "INSERT INTO chat_message_fts(chat_message_fts, rowid, body) VALUES ('delete', old.id, old.body); "
        "INSERT INTO chat_message_fts(rowid, body) VALUES (new.id, new.body); END",
        "INSERT INTO chat_message_fts(chat_message_fts) VALUES ('rebuild')",
    ],
    [
        "DROP TRIGGER IF EXISTS chat_message_fts_update",
        "DROP TRIGGER IF EXISTS chat_message_fts_delete",
        "DROP TRIGGER IF EXISTS chat_message_fts_insert",
        "DROP TABLE IF EXISTS chat_message_fts",
    ],
)


class Migration(migrations.Migration):
    dependencies = [("chat", "0004_room_direct_description_archive")]

    operations = [POSTGRESQL, MYSQL, SQLITE]
