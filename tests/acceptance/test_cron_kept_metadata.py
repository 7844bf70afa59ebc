"""Cron ``tick``s keep the queue tab's metadata in the state file, and never write on it blindly.

Each tick is the ``sheetqueue`` command as a new process, on a worked sheet
of the Sheets emulator, sharing one working folder (one state file) as cron
does; the calls are counted with the emulator's ``/_emulator/log``. A tick
first takes the pass lease (its compare-and-set, after the lease tab's
metadata and its cell when the state file kept neither); the calls after that
are the pass's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from bench.cron_calls import split_lease
from sheetqueue.sheets.gsheets_header import COLUMN_KEY
from sheetqueue.sheets.model import CANONICAL_HEADER, LOG_HEADER
from sheetqueue.sheets.testing.emulator import Emulator
from tests.cli_runner import SheetqueueCli, cli_on_sheet
from tests.sheet_contract_kit import WorkedSheet
from tests.store_backends import shared_emulator


def _tick(cli: SheetqueueCli, emulator: Emulator) -> tuple[dict[str, Any], list[str]]:
    """One ``sheetqueue tick --json``: its report, and the pass's calls (the lease's left out)."""
    report, _, kinds = _tick_with_lease(cli, emulator)
    return report, kinds


def _tick_with_lease(
    cli: SheetqueueCli, emulator: Emulator
) -> tuple[dict[str, Any], list[str], list[str]]:
    """One tick: its report, the pass lease's calls, and the pass's own."""
    httpx.delete(f"{emulator.url}/_emulator/log")
    done = cli("tick", "--json")
    assert done.code == 0, done.stderr
    lease, kinds = split_lease(httpx.get(f"{emulator.url}/_emulator/log").json()["calls"])
    assert lease in (
        ["structure"],  # the kept text swapped
        ["metadata", "values read", "structure"],  # the tab's id and its cell read first
        ["metadata", "structure"],  # no lease tab yet: made with the lease in it
    ), lease
    return done.json(), lease, kinds


def _quiet(tmp_path: Path) -> tuple[WorkedSheet, SheetqueueCli]:
    """A worked sheet, ticked by cron until a tick writes nothing (the Summary tab made)."""
    sheet = WorkedSheet(shared_emulator(), tmp_path)
    cli = cli_on_sheet(tmp_path, sheet.emulator, sheet.book)  # the same state file and outbox
    for _ in range(4):
        _, kinds = _tick(cli, sheet.emulator)
        if not any(kind in ("values write", "structure") for kind in kinds):
            return sheet, cli
    raise AssertionError(f"the sheet never went quiet: {kinds}")


def _forget_state(tmp_path: Path) -> None:
    """Delete the state file (its WAL too), as a lost disk would; the holder's token stays."""
    for name in ("state.db", "state.db-wal", "state.db-shm"):
        (tmp_path / name).unlink(missing_ok=True)


def _cell(sheet: WorkedSheet, row: int, header: str) -> Any:
    values = sheet.values()
    column = values[0].index(header)
    cells = values[row - 1]
    return cells[column] if column < len(cells) else ""


def _messages(tmp_path: Path) -> int:
    """The messages delivered to the maildir so far."""
    return sum(1 for path in (tmp_path / "outbox").rglob("*") if path.is_file())


def test_the_second_cron_tick_on_a_quiet_sheet_makes_one_call(tmp_path: Path) -> None:
    """No state: a tick reads the metadata, then the values; the next reads the values alone."""
    sheet, cli = _quiet(tmp_path)
    _forget_state(tmp_path)
    before = sheet.values()
    first, kinds = _tick(cli, sheet.emulator)
    assert kinds == ["metadata", "values read"]
    second, kinds = _tick(cli, sheet.emulator)
    assert kinds == ["values read"]
    assert first["changed"] == second["changed"] == 0 and second["failed"] == 0
    assert sheet.values() == before


def test_a_deleted_state_file_reads_the_metadata_again_with_the_same_result(
    tmp_path: Path,
) -> None:
    """Kept, then the state file deleted: 2 calls again, the same report, nothing sent twice."""
    sheet, cli = _quiet(tmp_path)
    kept, kinds = _tick(cli, sheet.emulator)
    assert kinds == ["values read"]
    sent, before = _messages(tmp_path), sheet.values()
    _forget_state(tmp_path)
    fresh, kinds = _tick(cli, sheet.emulator)
    assert kinds == ["metadata", "values read"]
    assert fresh == kept
    assert sheet.values() == before and _messages(tmp_path) == sent
    assert _tick(cli, sheet.emulator)[1] == ["values read"]  # kept again


def test_a_column_inserted_between_cron_ticks_is_read_again_and_written_right(
    tmp_path: Path,
) -> None:
    """Row 1 shifted between two ticks: the metadata is read again; the write lands where tagged."""
    sheet, cli = _quiet(tmp_path)
    assert _tick(cli, sheet.emulator)[1] == ["values read"]
    sheet.emulator.insert_blank_columns(sheet.book, "Requests", "Status")
    sheet.emulator.edit_cell(sheet.book, "Requests", 5, "Status", "Done")
    before = _cell(sheet, 5, "Notified")
    report, kinds = _tick(cli, sheet.emulator)
    assert kinds[:3] == ["values read", "metadata", "values read"]
    assert "values write" in kinds and report["failed"] == 0
    assert _cell(sheet, 5, "Notified") != before  # the shopper was told, in the moved column
    inserted = CANONICAL_HEADER.index("Status")
    assert all(len(row) <= inserted or row[inserted] == "" for row in sheet.values())
    for _ in range(2):  # the Summary catches up once, then the metadata read now is kept
        report, kinds = _tick(cli, sheet.emulator)
    assert kinds == ["values read"] and report["failed"] == 0


def test_the_state_file_pointed_at_another_spreadsheet_reuses_nothing(tmp_path: Path) -> None:
    """Same state file, another spreadsheet with the very same row 1: its own metadata is read."""
    sheet, cli = _quiet(tmp_path)
    assert _tick(cli, sheet.emulator)[1] == ["values read"]
    header = sheet.values()[0]
    other = sheet.emulator.create_spreadsheet(
        "Other queue", {"Requests": [header], "Log": [list(LOG_HEADER)], "Orders": []}
    )
    other_cli = cli_on_sheet(tmp_path, sheet.emulator, other)
    report, kinds = _tick(other_cli, sheet.emulator)
    assert kinds[:2] == ["metadata", "values read"] and report["failed"] == 0
    assert any(
        entry.get("metadataKey") == COLUMN_KEY for entry in sheet.emulator.developer_metadata(other)
    )  # the other sheet's columns tagged there, from its own metadata
    assert _tick(cli, sheet.emulator)[1] == ["values read"]  # the first sheet's entry still holds


def test_a_quiet_cron_tick_renews_the_lease_with_the_text_kept(tmp_path: Path) -> None:
    """The lease's tab id and text kept: a quiet tick is the swap and the read, 2 calls in all.

    With the state file deleted the lease is found and read again (3 calls),
    and kept again for the next tick.
    """
    sheet, cli = _quiet(tmp_path)
    _, lease, kinds = _tick_with_lease(cli, sheet.emulator)
    assert (lease, kinds) == (["structure"], ["values read"])
    _forget_state(tmp_path)
    _, lease, kinds = _tick_with_lease(cli, sheet.emulator)
    assert (lease, kinds) == (["metadata", "values read", "structure"], ["metadata", "values read"])
    report, lease, kinds = _tick_with_lease(cli, sheet.emulator)
    assert (lease, kinds) == (["structure"], ["values read"]) and report["failed"] == 0
