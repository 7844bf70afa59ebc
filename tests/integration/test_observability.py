"""Metrics through prometheus-client and readiness, on the Sheets emulator over HTTP."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.workload import NOW, orders, requests
from sheetqueue.bootstrap import build_worker, open_store, store_probe
from sheetqueue.config.clock import utc_now
from sheetqueue.sheets.gsheets_store import GsheetsStore
from sheetqueue.sheets.model import CANONICAL_HEADER, LOG_HEADER
from sheetqueue.worker.health import HealthServer, Readiness
from sheetqueue.worker.lock import pass_lock
from sheetqueue.worker.metrics import Metrics
from sheetqueue.worker.tick import tick
from tests.store_backends import gsheets_settings, no_sleep_backoff, shared_emulator

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _samples(text: str) -> tuple[dict[str, str], Samples]:
    """Family types by name, and every sample by (name, labels), as Prometheus reads them."""
    kinds: dict[str, str] = {}
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        kinds[family.name] = family.type
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return kinds, samples


def test_a_pass_on_the_sheet_shows_in_metrics_prometheus_can_parse(tmp_path: Path) -> None:
    """After a pass: its duration, rows by status, last good pass, Sheets calls and 429s."""
    emulator = shared_emulator()
    book = emulator.create_spreadsheet(
        "Queue", {"Requests": [list(CANONICAL_HEADER)], "Log": [list(LOG_HEADER)], "Orders": []}
    )
    settings = gsheets_settings(emulator, book, state_path=tmp_path / "state.db")
    metrics = Metrics()
    store = open_store(settings, metrics)
    assert isinstance(store, GsheetsStore)
    store.api.backoff = no_sleep_backoff()
    store.replace_orders(orders(7))
    store.add_requests(requests(7))
    worker = build_worker(settings, store, metrics)
    emulator.fail_next(1, 429)
    try:
        report = tick(worker, NOW, pass_lock(settings))
    finally:
        worker.close()
    assert report is not None and report.changed == 7
    kinds, samples = _samples(metrics.render())
    assert kinds["sheetqueue_pass_duration_seconds"] == "histogram"
    assert samples[("sheetqueue_pass_duration_seconds_count", ())] == 1
    rows = {
        labels[0][1]: value
        for (name, labels), value in samples.items()
        if name == "sheetqueue_rows"
    }
    assert sum(rows.values()) == 7 and "Pending" not in rows
    assert samples[("sheetqueue_last_successful_pass_timestamp_seconds", ())] >= NOW.timestamp()
    assert samples[("sheetqueue_worker_passes_total", ())] == 1
    throttled = sum(v for (n, _l), v in samples.items() if n == "sheetqueue_sheets_throttled_total")
    assert throttled == 1
    calls = sum(v for (n, _l), v in samples.items() if n == "sheetqueue_sheets_calls_total")
    assert calls >= 4
    assert kinds["sheetqueue_notices_owed"] == "gauge"
    assert samples[("sheetqueue_notices_owed", (("channel", "log"),))] == 0
    sent = samples[("sheetqueue_notifications_sent_total", (("channel", "log"),))]
    assert sent >= 1


def test_readyz_goes_red_while_the_sheet_is_down_and_back_after(tmp_path: Path) -> None:
    """/readyz answers 200 while the sheet answers, 503 naming the store while it fails."""
    emulator = shared_emulator()
    book = emulator.create_spreadsheet("Queue", {"Requests": [list(CANONICAL_HEADER)]})
    settings = gsheets_settings(emulator, book, state_path=tmp_path / "state.db")
    metrics = Metrics()
    readiness = Readiness(metrics, clock=utc_now, probe=store_probe(settings), probe_every=0)
    server = HealthServer(metrics, readiness, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{server.port}"
    try:
        assert httpx.get(url + "/readyz", timeout=10).status_code == 200
        emulator.set_faults(rate=1.0, codes=(503,))
        down = httpx.get(url + "/readyz", timeout=10)
        emulator.set_faults()
        assert down.status_code == 503
        assert down.json()["ready"] is False
        assert "cannot reach the store" in down.json()["checks"]["store"]
        assert httpx.get(url + "/readyz", timeout=10).status_code == 200
        assert httpx.get(url + "/healthz", timeout=10).json() == {"status": "ok"}
        scraped = httpx.get(url + "/metrics", timeout=10)
        assert scraped.headers["content-type"].startswith("text/plain")
        assert "sheetqueue_pass_duration_seconds" in _samples(scraped.text)[0]
    finally:
        server.stop()
