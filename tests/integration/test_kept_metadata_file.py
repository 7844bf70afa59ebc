"""The metadata kept in the state file: a bad entry is read past, and where it is kept.

A fresh store on a worked sheet of the emulator (real gspread over HTTP) is
each time a new process's store; the state file is a real SQLite file.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest

from sheetqueue.bootstrap import keep_sheet_metadata
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.gsheets_store import GsheetsStore
from sheetqueue.sheets.kept_entries import KeptEntries
from tests.sheet_contract_kit import WorkedSheet
from tests.store_backends import shared_emulator


def _read_kinds(sheet: WorkedSheet, kept: KeptEntries) -> list[str]:
    """A new store's read of the queue through ``kept``: each call as metadata or values."""
    store = sheet.store()
    store.keep_metadata(kept)
    url = sheet.emulator.url
    httpx.delete(f"{url}/_emulator/log")
    try:
        assert len(store.read_queue()) > 0
    finally:
        store.close()
    calls = httpx.get(f"{url}/_emulator/log").json()["calls"]
    return ["values" if "/values" in call["path"] else "metadata" for call in calls]


@pytest.mark.parametrize(
    "value",
    [
        "{not json",
        '{"format": 1, "answer": [], "header": "Request ID"}',
        '{"format": 1, "answer": {"sheets": [{"properties": 7}]}, "header": []}',
        '{"format": 99, "answer": {}, "header": []}',
        '"a string"',
    ],
)
def test_a_corrupt_entry_is_ignored_and_the_metadata_read_afresh(
    tmp_path: Path, value: str
) -> None:
    """Whatever the kept row holds, the read goes on afresh (2 calls) and keeps a good entry."""
    sheet = WorkedSheet(shared_emulator(), tmp_path)
    path = tmp_path / "kept.db"
    kept = KeptEntries(path, sheet.book)
    assert _read_kinds(sheet, kept) == ["metadata", "values"]
    with sqlite3.connect(path) as db:
        assert db.execute("UPDATE kept SET value = ?", (value,)).rowcount == 1
    assert _read_kinds(sheet, KeptEntries(path, sheet.book)) == ["metadata", "values"]
    assert _read_kinds(sheet, KeptEntries(path, sheet.book)) == ["values"]  # kept again


def test_a_state_file_that_cannot_be_opened_keeps_nothing_and_reads(tmp_path: Path) -> None:
    """A state path that is a folder: no error, every read reads the metadata."""
    sheet = WorkedSheet(shared_emulator(), tmp_path)
    folder = tmp_path / "a-folder"
    folder.mkdir()
    for _ in range(2):
        assert _read_kinds(sheet, KeptEntries(folder, sheet.book)) == ["metadata", "values"]


def _kept_path(sheet: WorkedSheet, **values: object) -> Path | None:
    settings = Settings(backend="gsheets", spreadsheet_id=sheet.book, **values)  # type: ignore[arg-type]
    store: GsheetsStore = sheet.store()
    keep_sheet_metadata(settings, store)
    kept = store.reader.kept
    store.close()
    return None if kept is None else kept.path


def test_shared_state_keeps_it_only_in_a_local_state_file_named(tmp_path: Path) -> None:
    """Local state: in the state file; PostgreSQL: in SHEETQUEUE_STATE_PATH if set, else not."""
    sheet = WorkedSheet(shared_emulator(), tmp_path)
    local = tmp_path / "state.db"
    url = "postgresql://sheetqueue@127.0.0.1:9/sheetqueue"
    assert _kept_path(sheet, state_path=local) == local
    assert _kept_path(sheet) == Path("sheetqueue-state.db")
    assert _kept_path(sheet, state_url=url, state_path=local) == local
    assert _kept_path(sheet, state_url=url) is None
