"""``sheetqueue archive`` SIGKILLed at many points and run again: 0 rows lost, 0 duplicated.

A real ``sheetqueue archive`` process through gspread on the Sheets emulator,
killed after a given number of its API calls (mid-copy, between copy and
delete, mid-delete), then run again until it finishes.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sheetqueue.sheets.testing.emulator import Emulator
from sheetqueue.sheets.times import parse_time
from tests.archive_kit import HEADER, RECENT, archive_rows, expected_archived, sheet_row
from tests.cli_runner import cli_on_sheet
from tests.store_backends import shared_emulator

KILL_AFTER_CALLS = (6, 11, 17, 23, 29, 37)


def _book_calls(emulator: Emulator, book: str) -> int:
    return sum(1 for call in emulator.calls if book in call.path)


def test_archive_killed_anywhere_and_run_again_loses_and_duplicates_nothing(
    tmp_path: Path,
) -> None:
    """Kill the archive run six times at different calls; the next run finishes the job."""
    emulator = shared_emulator()
    assert emulator.url is not None
    rows = archive_rows(40)
    every = {row["Request ID"] for row in rows}
    wanted = expected_archived(rows)
    book = emulator.create_spreadsheet(
        "Queue", {"Requests": [list(HEADER), *(sheet_row(r, HEADER) for r in rows)]}
    )
    recent = parse_time(RECENT)
    assert recent is not None
    days = (datetime.now(UTC) - recent).days + 30  # the cut-off falls between OLD and RECENT
    cli = cli_on_sheet(tmp_path, emulator, book)
    args = ("archive", "--closed-before", str(days), "--batch", "3", "--json")
    killed = 0
    for threshold in KILL_AFTER_CALLS:
        emulator.reset_log()  # the call log holds this run's calls only
        process = cli.popen(*args)
        while process.poll() is None and _book_calls(emulator, book) < threshold:
            time.sleep(0.005)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed += 1
        process.communicate(timeout=30)
        live, archived = _ids(emulator, book)
        lost = every - set(live) - set(archived)
        doubled = [rid for rid, n in Counter(archived).items() if n > 1]
        assert not lost and not doubled, (threshold, lost, doubled)
        assert len(live) == len(set(live)), threshold
    assert killed >= 4  # most runs were killed mid-way, not finished
    done = cli(*args, timeout=120)
    assert done.code == 0, done.stderr
    live, archived = _ids(emulator, book)
    lost = every - set(live) - set(archived)
    doubled = [rid for rid, n in Counter(archived).items() if n > 1]
    both = set(live) & set(archived)
    assert (len(lost), len(doubled), len(both)) == (0, 0, 0)
    assert set(archived) == wanted and set(live) == every - wanted
    log = emulator.values(book, "Log")
    lines = Counter(line[1] for line in log if len(line) > 4 and line[4] == "archive")
    assert set(lines) == wanted and set(lines.values()) == {1}
    again = cli(*args).json()
    assert again["archived"] == 0 and again["copied"] == 0


def _ids(emulator: Emulator, book: str) -> tuple[list[str], list[str]]:
    live = [row[0] for row in emulator.values(book, "Requests")[1:] if row]
    try:
        archive = emulator.values(book, "Archive 2026")
    except Exception:  # no archive tab yet
        archive = []
    return live, [row[0] for row in archive[1:] if row and row[0]]
