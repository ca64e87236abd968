"""The live board re-reads the room on its own, and a second board stops the first one's refresh."""
from __future__ import annotations

import time

from helpers import display
from helpers.workshop import progress


def test_live_board_refreshes_and_replaces_the_previous_one(at_start):
    _, conn = at_start
    reads = []

    def read():
        reads.append(time.monotonic())
        return progress.board(conn)

    first = display.live_board(read, interval=0.2)
    deadline = time.monotonic() + 30
    while len(reads) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(reads) >= 3, "the board did not re-read the room"
    assert "the room, by step" in first.view.value and "ws-01" in first.view.value
    second = display.live_board(read, interval=60)
    assert first._stop.is_set() and not second._stop.is_set()
    second.stop()


def test_board_html_shows_reproduced_failures_as_counts_not_alarms(at_start):
    _, conn = at_start
    board = progress.board(conn)
    page = display.board_html(board)
    assert "#c62828" not in page, "no alarm red on the instructor's board"
    assert "at the start" in page and board.summary() in page
