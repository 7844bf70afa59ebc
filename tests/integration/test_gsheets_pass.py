"""A worker pass on the Google Sheet costs a fixed, small number of Sheets API calls."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bench.workload import NOW
from sheetqueue.bootstrap import build_worker
from sheetqueue.sheets.gsheets_store import GsheetsStore
from sheetqueue.sheets.model import CANONICAL_HEADER
from tests.store_backends import gsheets_settings, no_sleep_backoff, shared_emulator, workload_sheet

ROWS = 700


def test_a_pass_reads_queue_and_orders_in_one_call_and_writes_in_two(tmp_path: Path) -> None:
    """Any size: header check, a read, a checked write, sending marks, outcomes; quiet: 1 call."""
    emulator = shared_emulator()
    store, book = workload_sheet(ROWS)
    worker = build_worker(gsheets_settings(emulator, book, state_path=tmp_path / "s.db"), store)
    calls = []
    for minute in range(3):
        before = store.calls
        report = worker.run_pass(NOW + timedelta(minutes=minute))
        calls.append(store.calls - before)
        if minute == 0:
            assert report.checked == ROWS and report.changed == ROWS
    worker.ledger.close()
    # decide all, mark them sending, send, note the outcomes (each checked write is a read
    # and a write); then one read, checked with the metadata the last read kept
    assert calls == [8, 1, 1]


def test_sheets_calls_and_retries_reach_the_metrics(tmp_path: Path) -> None:
    """The store opened with metrics counts each Sheets call, and retries apart."""
    from sheetqueue.bootstrap import open_store
    from sheetqueue.worker.metrics import Metrics

    emulator = shared_emulator()
    assert emulator.url is not None
    book = emulator.create_spreadsheet("Queue", {"Requests": [list(CANONICAL_HEADER)]})
    settings = gsheets_settings(emulator, book, orders="file:x.json")
    metrics = Metrics()
    store = open_store(settings, metrics)
    assert isinstance(store, GsheetsStore)
    store.api.backoff = no_sleep_backoff()
    emulator.fail_next(1, 503)
    store.read_requests()
    assert metrics.value("sheetqueue_sheets_calls_total", operation="metadata") == 2
    assert metrics.value("sheetqueue_sheets_retries_total", operation="metadata") == 1
