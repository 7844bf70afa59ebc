"""A worker keeps the tabs' metadata between passes, and never writes on it unconfirmed.

One store and one worker run pass after pass, as ``sheetqueue worker`` does,
through real gspread against the emulator over HTTP; the calls are counted
with the emulator's ``/_emulator/log``. A quiet pass reads the values alone
(the tags kept from the last read say where the columns are); when row 1
changed, the metadata is read again before the values are trusted; when the
pass has something to write, the kept metadata is read again first and a
sheet that changed under it (cells merged, a column replaced) gets no write.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.workload import NOW
from sheetqueue.bootstrap import build_worker
from sheetqueue.sheets.gsheets_header import HeaderProblem
from sheetqueue.sheets.gsheets_layout import column_letters
from sheetqueue.sheets.gsheets_store import GsheetsStore
from sheetqueue.sheets.lease import LeaseHeld
from sheetqueue.sheets.model import CANONICAL_HEADER
from sheetqueue.worker.lock import pass_lock
from sheetqueue.worker.tick import PassReport, Worker, tick
from tests.factories import make_request
from tests.sheet_contract_kit import WorkedSheet
from tests.store_backends import shared_emulator


class _Kept:
    """One long-lived store and worker on a worked sheet, and the calls each pass made."""

    def __init__(self, tmp_path: Path, alerts: list[str] | None = None) -> None:
        self.sheet = WorkedSheet(shared_emulator(), tmp_path)
        sink = alerts if alerts is not None else []
        self.store: GsheetsStore = self.sheet.store(on_alert=sink.append)
        self.worker: Worker = build_worker(self.sheet.settings(), self.store)
        self.run()  # the store's first read: the metadata, then the values, kept

    @property
    def url(self) -> str:
        assert self.sheet.emulator.url is not None
        return self.sheet.emulator.url

    def run(self) -> PassReport:
        """One pass; the emulator's log holds its calls alone."""
        httpx.delete(f"{self.url}/_emulator/log")
        self.sheet.passes += 1
        return self.worker.run_pass(NOW + timedelta(minutes=self.sheet.passes))

    def calls(self) -> list[dict[str, Any]]:
        """The API calls of the last pass, in order, as the emulator logged them."""
        return list(httpx.get(f"{self.url}/_emulator/log").json()["calls"])

    def kinds(self) -> list[str]:
        """Each call of the last pass as ``metadata``, ``values read`` or ``values write``."""
        return [_kind(call) for call in self.calls()]

    def close(self) -> None:
        self.worker.close()
        self.store.close()


def _kind(call: dict[str, Any]) -> str:
    if "/values" not in call["path"]:
        return "metadata" if call["method"] == "GET" else "structure"
    return "values read" if call["method"] == "GET" else "values write"


def _cell(sheet: WorkedSheet, row: int, header: str) -> Any:
    values = sheet.values()
    column = values[0].index(header)
    cells = values[row - 1]
    return cells[column] if column < len(cells) else ""


def test_a_quiet_pass_is_one_values_read(tmp_path: Path) -> None:
    """Nothing to do: the pass makes exactly 1 call, the values batchGet, and writes nothing."""
    kept = _Kept(tmp_path)
    report = kept.run()
    assert report.changed == 0
    assert kept.kinds() == ["values read"]
    assert ":batchGet" in kept.calls()[0]["path"]
    kept.close()


def test_a_column_inserted_between_passes_is_followed_to_the_right_cells(tmp_path: Path) -> None:
    """Row 1 shifted: the metadata is read again before the values; the write lands where tagged."""
    kept = _Kept(tmp_path)
    sheet = kept.sheet
    sheet.emulator.insert_blank_columns(sheet.book, "Requests", "Status")
    sheet.emulator.edit_cell(sheet.book, "Requests", 5, "Status", "Done")
    before = _cell(sheet, 5, "Notified")
    report = kept.run()
    kinds = kept.kinds()
    assert kinds[:3] == ["values read", "metadata", "values read"]
    assert "values write" in kinds and report.failed == 0
    assert _cell(sheet, 5, "Notified") != before  # the shopper was told, in the moved column
    inserted = CANONICAL_HEADER.index("Status")
    assert all(len(row) <= inserted or row[inserted] == "" for row in sheet.values())
    assert kept.run().changed == 0 and kept.kinds() == ["values read"]  # kept again
    kept.close()


def test_cells_merged_between_passes_are_seen_before_any_write(tmp_path: Path) -> None:
    """A merge across a queue row (row 1 unchanged): the pass that writes confirms, finds it."""
    alerts: list[str] = []
    kept = _Kept(tmp_path, alerts)
    sheet = kept.sheet
    decision = CANONICAL_HEADER.index("Decision")
    first, last = column_letters(decision), column_letters(decision + 1)
    sheet.emulator.merge_cells(sheet.book, "Requests", f"{first}6:{last}6")
    sheet.emulator.edit_cell(sheet.book, "Requests", 6, "Status", "Done")
    sheet.emulator.edit_cell(sheet.book, "Requests", 5, "Status", "Done")
    merged_row = sheet.values()[5]
    told_before = _cell(sheet, 5, "Notified")
    logged = len(sheet.values("Log"))
    kept.run()
    kinds = kept.kinds()
    assert kinds[:2] == ["values read", "metadata"]  # confirmed before anything is written
    assert sheet.values()[5] == merged_row
    assert _cell(sheet, 5, "Notified") == told_before
    kept.run()  # the merge known now: the merged row is skipped, the others are worked
    assert alerts and set(alerts) == {"merged_cells"}
    assert sheet.values()[5] == merged_row
    assert _cell(sheet, 5, "Notified") != told_before
    changes = [row[3] for row in sheet.values("Log")[logged:]]
    assert changes == ["Done", "Done"]  # the team's two changes, logged once (not lost)
    kept.close()


def test_a_header_renamed_between_passes_still_stops_the_worker(tmp_path: Path) -> None:
    """'Status' renamed on a kept store: column_renamed, a note posted, no value written."""
    alerts: list[str] = []
    kept = _Kept(tmp_path, alerts)
    sheet = kept.sheet
    sheet.emulator.edit_cell(sheet.book, "Requests", 1, "Status", "Status (team)")
    before = sheet.values()
    with pytest.raises(HeaderProblem) as stop:
        kept.run()
    assert stop.value.reason == "column_renamed"
    assert alerts == ["column_renamed"]
    assert "values write" not in kept.kinds()
    assert "Fix:" in sheet.emulator.note(sheet.book, "Requests", "A1")
    with pytest.raises(HeaderProblem):  # still stopped; the note is not posted twice
        kept.run()
    assert "structure" not in kept.kinds() and sheet.values() == before
    kept.close()


def test_a_column_replaced_by_another_process_is_seen_before_writing(tmp_path: Path) -> None:
    """Another store swaps Decision for a look-alike (row 1 unchanged): a stop, and no write."""
    kept = _Kept(tmp_path)
    sheet = kept.sheet
    other = sheet.store()
    decision = CANONICAL_HEADER.index("Decision")
    assert other.ensure_header() == [] and other.tab is not None
    span = {"sheetId": other.tab.sheet_id, "dimension": "COLUMNS"}
    span |= {"startIndex": decision, "endIndex": decision + 1}
    other.api.structure([{"deleteDimension": {"range": span}}])
    other.api.structure([{"insertDimension": {"range": span}}])
    other.api.update(f"Requests!{column_letters(decision)}1", [["Decision"]])
    other.close()
    assert sheet.values()[0] == list(CANONICAL_HEADER)
    sheet.emulator.edit_cell(sheet.book, "Requests", 5, "Status", "Done")
    before = [row[: len(CANONICAL_HEADER)] for row in sheet.values()]
    with pytest.raises(HeaderProblem) as stop:
        kept.run()
    assert stop.value.reason == "column_missing"
    assert kept.kinds()[:3] == ["values read", "metadata", "metadata"]  # confirm, then afresh
    assert "values write" not in kept.kinds()
    assert [row[: len(CANONICAL_HEADER)] for row in sheet.values()] == before
    kept.close()


def test_a_quiet_tick_holding_the_lease_still_reads_the_queue_once(tmp_path: Path) -> None:
    """The lease renewal (a write to its hidden tab) keeps the queue's metadata: 1 queue read."""
    kept = _Kept(tmp_path)
    lock = pass_lock(kept.sheet.settings())
    assert kept.worker.lease is not None
    for minute in (1, 2):  # the first tick takes the lease (and finds its tab)
        httpx.delete(f"{kept.url}/_emulator/log")
        report = tick(kept.worker, NOW + timedelta(hours=1, minutes=minute), lock)
        assert report is not None and report.changed == 0
    reads = [c["path"] for c in kept.calls() if _kind(c) == "values read"]
    assert "metadata" not in kept.kinds()
    assert len([p for p in reads if ":batchGet" in p]) == 1
    kept.close()


def _tick_at(kept: _Kept, lock: Any, at: Any) -> list[str]:
    """One tick at ``at`` (its renewals too); the kinds of the calls it made."""
    httpx.delete(f"{kept.url}/_emulator/log")
    report = tick(kept.worker, at, lock, clock=lambda: at)
    assert report is not None
    return kept.kinds()


def test_every_pass_starts_on_a_whole_lease_with_one_call(tmp_path: Path) -> None:
    """Each quiet tick renews the lease (its compare-and-set), then reads the queue once."""
    kept = _Kept(tmp_path)
    lock = pass_lock(kept.sheet.settings())
    assert kept.worker.lease is not None
    ttl, start = kept.worker.lease.ttl, NOW + timedelta(hours=1)
    taken = _tick_at(kept, lock, start)
    assert "structure" in taken and taken[-1] == "values read"  # the lease taken, then the queue
    for fraction in (0.1, 0.4, 0.9):  # however little of the last lease has gone
        assert _tick_at(kept, lock, start + ttl * fraction) == ["structure", "values read"]
    kept.close()


def test_a_renewed_lease_is_held_against_another_host(tmp_path: Path) -> None:
    """A second worker (another state file, another holder) is refused while the first holds it."""
    kept = _Kept(tmp_path)
    lock = pass_lock(kept.sheet.settings())
    assert kept.worker.lease is not None
    ttl, start = kept.worker.lease.ttl, NOW + timedelta(hours=1)
    _tick_at(kept, lock, start)
    assert _tick_at(kept, lock, start + ttl * 0.4) == ["structure", "values read"]
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    other_settings = kept.sheet.settings().model_copy(update={"state_path": other_dir / "s.db"})
    other_store = kept.sheet.store()
    other = build_worker(other_settings, other_store)
    with pytest.raises(LeaseHeld):
        tick(other, start + ttl * 0.45, pass_lock(other_settings), clock=lambda: start)
    other.close()
    other_store.close()
    kept.close()


def test_a_pass_with_a_write_writes_on_a_renewed_lease(tmp_path: Path) -> None:
    """The lease is renewed at the pass's start, before its record write."""
    kept = _Kept(tmp_path)
    lock = pass_lock(kept.sheet.settings())
    assert kept.worker.lease is not None
    ttl, start = kept.worker.lease.ttl, NOW + timedelta(hours=1)
    _tick_at(kept, lock, start)
    kept.store.add_requests([make_request(request_id="REQ-KEPTLEASE00000001", status="")])
    kinds = _tick_at(kept, lock, start + ttl * 0.4)
    assert "values write" in kinds
    assert kinds.index("structure") < kinds.index("values write")
    kept.close()
