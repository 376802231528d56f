"""The cursor, alone: which live message events a socket forwards, drops or repairs."""

from chat.cursor import Cursor, Verdict


def test_live_events_before_the_first_sync_are_dropped():
    """Until the page says where it stands, every live event is dropped (the sync's catch-up,
    read after they were committed, has them)."""
    cursor = Cursor()
    assert [cursor.receive(seq) for seq in (1, 2)] == [Verdict.DROP, Verdict.DROP]
    assert cursor.seq is None


def test_after_the_sync_only_the_next_message_is_forwarded():
    """The next seq is forwarded and moves the cursor; an old one is dropped; one further on is
    a gap, and the cursor waits for the catch-up to move it."""
    cursor = Cursor()
    cursor.start(after=3, last_seq=3)
    assert cursor.receive(4) is Verdict.FORWARD and cursor.seq == 4
    assert cursor.receive(4) is Verdict.DROP and cursor.receive(2) is Verdict.DROP
    assert cursor.receive(6) is Verdict.GAP and cursor.seq == 4
    cursor.caught_up(6)
    assert cursor.receive(6) is Verdict.DROP and cursor.receive(7) is Verdict.FORWARD


def test_a_page_claiming_more_than_the_room_has_is_held_to_the_rooms_newest():
    """A forged sync cannot make the socket skip messages still to come."""
    cursor = Cursor()
    cursor.start(after=10**18, last_seq=2)
    assert cursor.seq == 2 and cursor.receive(3) is Verdict.FORWARD


def test_before_the_first_sync_the_highest_seq_received_is_kept():
    """What a socket knows of the room's newest without a query (RoomLog.seqs_known)."""
    cursor = Cursor()
    for seq in (3, 5, 4):
        cursor.receive(seq)
    assert cursor.seen == 5
    cursor.start(after=5, last_seq=5)
    cursor.receive(6)
    assert cursor.seen == 5 and cursor.seq == 6
