"""A new message stored in one database round trip, where the database can (PostgreSQL).

chat.messages.message_create stores a message with four statements in a transaction (six round
trips with BEGIN and COMMIT): the room's row locked, the message inserted, the room's last seq
and the author's read marker moved. On PostgreSQL, one statement does all four, atomically and
in its own transaction (or the caller's): a third of a message's server CPU was the ORM
building and sending them (docs/performance.md). Other databases, and messages that need more
(mentions), take the ORM's way.

A socket's message can be stored from its event loop, on a connection of that loop's own
(message_store_async, psycopg's async connections, a few per loop): Django's ORM runs only on threads, and
the hop to the thread pool and back, with Django's connection taken from its pool and given
back, cost more than the statement itself.
"""

import asyncio
import datetime
import weakref

import psycopg
from django.db import connection, connections

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
    with connection.cursor() as cursor:
        cursor.execute(STORE_SQL, _params(message))
        return _stored(message, cursor.fetchone())


def _params(message) -> dict:
    return {
        "room": message.room_id,
        "author": message.author_id,
        "body": message.body,
        "body_html": message.body_html,
        "at": message.created_at,
        "client_key": message.client_key,
    }


def _stored(message, row) -> tuple[int | None, datetime.datetime | None] | None:
    if row is None:
        return None
    message.pk, message.seq = row[0], row[1]
    message._state.adding, message._state.db = False, connection.alias
    return row[2], row[3]


class StoreUnavailable(Exception):
    """message_store_async did not store the message: its loop's connection is busy with another
    one, cannot be had, or the statement failed (a resend's key, the database away). Nothing
    was stored; message_store's way on a thread says what the matter is, or stores it."""


class _LoopConnection:
    """One of an event loop's own connections for message_store_async, and whether a store is using it."""

    connection: psycopg.AsyncConnection | None = None
    busy: bool = False


# Connections a loop keeps for message_store_async: the messages being stored at once beyond
# this take the thread pool's way. With one, at 500 messages/s in 20-member rooms the thread
# pool's way took more of the server's CPU than the loop's (profile-ramp, session 15).
LOOP_CONNECTIONS = 4
_loop_connections: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, list[_LoopConnection]]" = (
    weakref.WeakKeyDictionary()
)
_every_loop_connection: list[_LoopConnection] = []  # loops' too that are gone: store_connections_close


def _connect_params() -> dict:
    """Django's parameters for its default database (its name in tests: the test database's),
    without those only Django's own connections take."""
    params = connections["default"].get_connection_params()
    return {name: value for name, value in params.items() if isinstance(value, str | int)}


async def message_store_async(message) -> tuple[int | None, datetime.datetime | None] | None:
    """message_store(`message`), from the event loop, on one of that loop's own psycopg
    connections (LOOP_CONNECTIONS at most, opened as needed), in autocommit (the statement is
    its own transaction). One message at a time per connection: with all of them storing, this
    one raises StoreUnavailable at once rather than waiting (its caller takes the thread pool's
    way), so the loop never queues behind its connections. Messages of one room stored at once
    are numbered in commit order by the room's row lock, as on threads. PostgreSQL only
    (one_statement_store). Returns as message_store does; raises StoreUnavailable as that
    class says, with nothing stored."""
    loop = asyncio.get_running_loop()
    kept = _loop_connections.get(loop)
    if kept is None:
        kept = _loop_connections[loop] = []
    held = next((held for held in kept if not held.busy), None)
    if held is None:
        if len(kept) >= LOOP_CONNECTIONS:
            raise StoreUnavailable("this loop's connections are storing other messages")
        held = _LoopConnection()
        kept.append(held)
        _every_loop_connection.append(held)
    held.busy = True
    try:
        if held.connection is None or held.connection.closed:
            held.connection = await psycopg.AsyncConnection.connect(**_connect_params(), autocommit=True)
        async with held.connection.cursor() as cursor:
            await cursor.execute(STORE_SQL, _params(message))
            row = await cursor.fetchone()
    except psycopg.Error as error:
        raise StoreUnavailable(repr(error)) from error
    except BaseException:
        _close(held)  # cancelled half-way: the connection's state is unknown
        raise
    finally:
        held.busy = False
    return _stored(message, row)


def _close(held: _LoopConnection) -> None:
    if held.connection is not None:
        held.connection.pgconn.finish()  # synchronous: whether or not its loop still runs
        held.connection = None


def store_connections_close() -> None:
    """Close every loop's connection (for tests: the test database is dropped at the end)."""
    for held in _every_loop_connection:
        _close(held)
    _every_loop_connection.clear()
