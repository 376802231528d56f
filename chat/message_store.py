"""A new message stored in one database round trip, where the database can (PostgreSQL).

chat.messages.message_create stores a message with four statements in a transaction (six round
trips with BEGIN and COMMIT): the room's row locked, the message inserted, the room's last seq
and the author's read marker moved. On PostgreSQL, one statement does all four, atomically and
in its own transaction (or the caller's): a third of a message's server CPU was the ORM
building and sending them (docs/performance.md). Other databases, and messages that need more
(mentions), take the ORM's way.
"""

import datetime

from django.db import connection

# The room's row is locked (FOR UPDATE) before its seq is read, so concurrent posts to one
# room are numbered in the order they commit, as under the ORM's select_for_update(). The
# sub-select reads the room as it was (the previous message's author and time, for grouping);
# UPDATE ... RETURNING gives the new seq; data-modifying CTEs run once each, in one snapshot.
STORE_SQL = """
WITH room AS (
    UPDATE chat_room AS r
    SET last_seq = r.last_seq + 1, last_message_at = %(at)s, last_author_id = %(author)s
    FROM (SELECT id, last_author_id, last_message_at FROM chat_room WHERE id = %(room)s FOR UPDATE) AS previous
    WHERE r.id = previous.id AND r.archived_at IS NULL
    RETURNING r.last_seq AS seq, previous.last_author_id, previous.last_message_at
), message AS (
    INSERT INTO chat_message (room_id, author_id, body, body_html, created_at, seq, client_key)
    SELECT %(room)s, %(author)s, %(body)s, %(body_html)s, %(at)s, room.seq, %(client_key)s FROM room
    RETURNING id, seq
), marker AS (
    UPDATE chat_membership SET last_read_seq = message.seq
    FROM message WHERE room_id = %(room)s AND user_id = %(author)s
)
SELECT message.id, message.seq, room.last_author_id, room.last_message_at FROM message, room
"""


def one_statement_store() -> bool:
    """Whether this database stores a message in one statement (message_store): PostgreSQL."""
    return connection.vendor == "postgresql"


def message_store(message) -> tuple[int | None, datetime.datetime | None] | None:
    """Store `message` (a chat.models.Message, validated, not saved: its room, author, body,
    body_html, created_at (aware) and client_key set) as its room's next seq, move the room's
    last seq, message time and author, and the author's read marker to it; set its `pk` and
    `seq`. PostgreSQL only (one_statement_store).

    Returns `(author id, time)` of the room's message before it (None, None: none), or None
    with nothing stored when the room is archived or gone (the caller's ORM path then says
    which). Raises django.db.IntegrityError when the author already used its client_key, with
    nothing stored, and other DatabaseErrors as they come."""
    params = {
        "room": message.room_id,
        "author": message.author_id,
        "body": message.body,
        "body_html": message.body_html,
        "at": message.created_at,
        "client_key": message.client_key,
    }
    with connection.cursor() as cursor:
        cursor.execute(STORE_SQL, params)
        row = cursor.fetchone()
    if row is None:
        return None
    message.pk, message.seq = row[0], row[1]
    message._state.adding, message._state.db = False, connection.alias
    return row[2], row[3]
