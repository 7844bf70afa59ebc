"""POST /v1/sheet-events through a real server on 127.0.0.1, on a SQLite queue and state file.

The batches are signed here with :mod:`hmac`, as the sheet's Apps Script
signs them; the server's clock is fixed, so the replay window is exact.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from sheetqueue.bootstrap import build_worker
from sheetqueue.bot_actions.api import create_app
from sheetqueue.bot_actions.record import parse_new_request, record_request
from sheetqueue.config.clock import utc_now
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.sqlite_store import SqliteStore
from sheetqueue.worker.lock import pass_lock
from sheetqueue.worker.metrics import Metrics
from sheetqueue.worker.scheduler import PassNow, run_scheduled
from sheetqueue.worker.tick import tick
from tests.api_kit import NOW, Api, make_settings, serve
from tests.outbox_kit import eventually
from tests.sheet_events_kit import SECRET, batch, event, signed_headers

T = int(NOW.timestamp())
EDITOR = "sam.team@shop.example"


@dataclass
class Queue:
    folder: Path
    settings: Settings
    request_id: str

    def store(self) -> SqliteStore:
        return SqliteStore(self.folder / "queue.db")


def _queue(folder: Path, **overrides: Any) -> Queue:
    settings = make_settings(folder, sheet_events_secret=SECRET, **overrides)
    store = SqliteStore(settings.local_path)
    new = parse_new_request(
        {
            "type": "cancellation",
            "order_id": "ORD-1002",
            "email": "ben@example.com",
            "conversation_id": "conv-events",
        }
    )
    request_id = record_request(store, new, NOW).request_id
    store.close()
    return Queue(folder, settings, request_id)


@contextmanager
def _served(queue: Queue, **options: Any) -> Iterator[Api]:
    app = create_app(queue.settings, store_opener=queue.store, clock=lambda: NOW, **options)
    with serve(app) as api:
        yield api


def _signed(api: Api, body: bytes, t: int = T, secret: str = SECRET) -> requests.Response:
    """A post as the Apps Script sends it: the signature header, no bearer token."""
    return requests.post(
        api.url + "/v1/sheet-events", data=body, headers=signed_headers(body, t, secret), timeout=10
    )


def _post(api: Api, body: bytes, headers: dict[str, str]) -> requests.Response:
    """A post with exactly these headers (no bearer token unless given)."""
    return requests.post(api.url + "/v1/sheet-events", data=body, headers=headers, timeout=10)


def _team_sets(queue: Queue, status: str) -> None:
    """A person types ``status`` into the row's Status cell."""
    with sqlite3.connect(queue.folder / "queue.db") as db:
        db.execute(
            "UPDATE requests SET status = ? WHERE request_id = ?", (status, queue.request_id)
        )


def test_a_signed_batch_is_accepted_and_a_wrong_signature_refused(tmp_path: Path) -> None:
    """The right signature: 202; another body, key or none: 401 naming why."""
    queue = _queue(tmp_path)
    with _served(queue) as api:
        body = batch([event(queue.request_id, "Done", by=EDITOR)], NOW)
        good = _signed(api, body)
        assert good.status_code == 202, good.text
        assert good.json() == {"accepted": 1, "duplicates": 0, "unknown": []}
        headers = signed_headers(body, T)
        tampered = body.replace(b"Done", b"Rejected")
        wrong_body = _post(api, tampered, headers)
        wrong_key = _signed(api, body, secret="not-the-secret")
        unsigned = _post(api, body, {})
        garbled = _post(api, body, {"X-Sheetqueue-Signature": "v1=abc"})
    for answer, reason in (
        (wrong_body, "signature"),
        (wrong_key, "signature"),
        (unsigned, "missing"),
        (garbled, "signature"),
    ):
        assert answer.status_code == 401, answer.text
        assert answer.json()["reason"] == reason


def test_a_stale_timestamp_is_refused_with_the_reason(tmp_path: Path) -> None:
    """t (or sent_at under the token) over 300 s from the server's clock: 401 stale."""
    queue = _queue(tmp_path)
    with _served(queue) as api:
        body = batch([event(queue.request_id, "Done")], NOW)
        late = _signed(api, body, t=T - 301)
        early = _signed(api, body, t=T + 301)
        inside = _signed(api, body, t=T - 299)
        old_sent_at = batch([event(queue.request_id, "Done")], NOW - timedelta(minutes=6))
        by_token = api.session.post(api.url + "/v1/sheet-events", data=old_sent_at, timeout=10)
    for answer in (late, early, by_token):
        assert answer.status_code == 401, answer.text
        assert answer.json()["reason"] == "stale"
        assert "300 s" in answer.json()["error"]
    assert inside.status_code == 202, inside.text


def test_a_bearer_token_with_a_current_sent_at_is_accepted(tmp_path: Path) -> None:
    """Authorization: Bearer <api_token> instead of the signature; a wrong token is 401."""
    queue = _queue(tmp_path)
    with _served(queue) as api:
        body = batch([event(queue.request_id, "Done")], NOW)
        ok = api.session.post(api.url + "/v1/sheet-events", data=body, timeout=10)
        wrong = _post(api, body, {"Authorization": "Bearer nope"})
    assert ok.status_code == 202, ok.text
    assert (wrong.status_code, wrong.json()["reason"]) == (401, "token")


def test_a_replayed_event_is_a_duplicate_and_the_change_logged_once_by_its_editor(
    tmp_path: Path,
) -> None:
    """The same event id twice: kept once; the pass logs the team's change once, by the editor."""
    queue = _queue(tmp_path)
    store = queue.store()
    worker = build_worker(queue.settings, store, clock=lambda: NOW)
    try:
        worker.run_pass(NOW)  # the worker has seen the row open
        _team_sets(queue, "Done")
        edit = event(queue.request_id, "Done", by=EDITOR)
        with _served(queue) as api:
            first = _signed(api, batch([edit], NOW))
            again = _signed(api, batch([edit], NOW))
        assert first.json() == {"accepted": 1, "duplicates": 0, "unknown": []}
        assert again.json() == {"accepted": 0, "duplicates": 1, "unknown": []}
        worker.run_pass(NOW + timedelta(seconds=5))
        worker.run_pass(NOW + timedelta(seconds=10))
        entries = [e for e in store.read_log() if e.request_id == queue.request_id]
    finally:
        worker.close()
        store.close()
    done = [e for e in entries if e.to_status == "Done"]
    assert [(e.from_status, e.by) for e in done] == [("Eligible", EDITOR)]


def test_a_team_change_without_an_event_is_still_logged_by_team(tmp_path: Path) -> None:
    """No event (or one without an email): the poll logs the change, by "team"."""
    queue = _queue(tmp_path)
    store = queue.store()
    worker = build_worker(queue.settings, store, clock=lambda: NOW)
    try:
        worker.run_pass(NOW)
        _team_sets(queue, "Rejected")
        with _served(queue) as api:
            _signed(api, batch([event(queue.request_id, "Rejected", by="")], NOW))
        worker.run_pass(NOW + timedelta(seconds=5))
        entries = [e for e in store.read_log() if e.to_status == "Rejected"]
    finally:
        worker.close()
        store.close()
    assert [e.by for e in entries] == ["team"]


def test_unknown_request_ids_are_reported_not_refused(tmp_path: Path) -> None:
    """Events for Request IDs not in the queue: 202, listed in unknown, not counted accepted."""
    queue = _queue(tmp_path)
    with _served(queue) as api:
        body = batch(
            [
                event(queue.request_id, "Done"),
                event("REQ-NOTINTHEQUEUE0", "Done"),
                event("REQ-NOTINTHEQUEUE0", "Team Note", column="Team Note"),
            ],
            NOW,
        )
        answer = _signed(api, body)
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"accepted": 1, "duplicates": 0, "unknown": ["REQ-NOTINTHEQUEUE0"]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "body"),
        (b'{"spreadsheet_id": "x", "events": []}', "sent_at"),
        (b'{"sent_at": "2026-11-10T12:00:00Z", "events": []}', "events"),
        (b'{"sent_at": "yesterday", "events": [{}]}', "sent_at"),
    ],
)
def test_a_malformed_body_is_422_naming_the_field(tmp_path: Path, body: bytes, field: str) -> None:
    """Not JSON, a missing or wrong field: 422 whose ``field`` names it."""
    queue = _queue(tmp_path)
    with _served(queue) as api:
        answer = _signed(api, body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == field
    assert answer.json()["error"].startswith(f"{field}: ")


def test_a_wrong_column_or_too_many_events_is_422(tmp_path: Path) -> None:
    """A column that is not watched, or 101 events in one batch: 422 naming the field."""
    queue = _queue(tmp_path)
    with _served(queue) as api:
        price = _signed(api, batch([event(queue.request_id, "9", column="Price")], NOW))
        many = _signed(api, batch([event(queue.request_id, "Done")] * 101, NOW))
    assert (price.status_code, price.json()["field"]) == (422, "events.0.column")
    assert (many.status_code, many.json()["field"]) == (422, "events")


def test_the_route_is_off_without_a_secret_or_a_token(tmp_path: Path) -> None:
    """No events secret and no API token: 404 saying which setting turns it on."""
    queue = _queue(tmp_path)
    queue.settings = make_settings(tmp_path, api_token="")
    with _served(queue) as api:
        body = batch([event(queue.request_id, "Done")], NOW)
        answer = _post(api, body, {})
        signed = _signed(api, body)
    for refused in (answer, signed):
        assert refused.status_code == 404
        assert "SHEETQUEUE_SHEET_EVENTS_SECRET" in refused.json()["error"]


def test_the_openapi_document_describes_the_route(tmp_path: Path) -> None:
    """The route is in the document: its tag, 202 answer, 401/422 errors and both ways to sign."""
    queue = _queue(tmp_path)
    with _served(queue) as api:
        document = api.get("/openapi.json").json()
    route = document["paths"]["/v1/sheet-events"]["post"]
    assert route["tags"] == ["sheet events"]
    assert {"202", "401", "404", "422"} <= set(route["responses"])
    assert route["security"] == [{"sheetSignature": []}, {"bearerAuth": []}]
    body = route["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body.rsplit("/", 1)[-1] in document["components"]["schemas"]


def test_a_burst_of_fifty_events_gives_one_more_pass_never_two_at_once(tmp_path: Path) -> None:
    """50 posts while a pass runs: exactly one more pass after it, never two passes at once."""
    queue = _queue(tmp_path, interval_seconds=300)
    metrics = Metrics()
    store = queue.store()
    worker = build_worker(queue.settings, store, metrics, clock=utc_now)
    lock = pass_lock(queue.settings)
    waker = PassNow(utc_now)
    started, gate, stop = threading.Event(), threading.Event(), threading.Event()
    running: list[int] = []
    most = [0]

    def job() -> None:
        running.append(1)
        most[0] = max(most[0], len(running))
        try:
            started.set()
            gate.wait(30)  # the first pass is held until the whole burst is in
            tick(worker, utc_now(), lock)
        finally:
            running.pop()

    scheduler = threading.Thread(
        target=run_scheduled,
        args=(job, 300),
        kwargs={"clock": utc_now, "stop": stop, "install_signals": False, "pass_now": waker},
    )
    scheduler.start()
    try:
        with _served(queue, pass_now=waker.wake) as api:
            assert started.wait(10)
            bodies = [batch([event(queue.request_id, "Done", by=EDITOR)], NOW) for _ in range(50)]
            with ThreadPoolExecutor(8) as pool:
                answers = list(pool.map(lambda body: _signed(api, body), bodies))
            assert [a.status_code for a in answers] == [202] * 50
            assert waker.passes == 1
            gate.set()
            eventually(lambda: waker.passes == 2 and waker.idle, 30, "the asked-for pass ran")
            next_run = waker.next_run()
    finally:
        gate.set()
        stop.set()
        scheduler.join(30)
        worker.close()
        store.close()
    assert waker.passes == 2
    assert metrics.value("sheetqueue_worker_passes_total") == 2
    assert most[0] == 1
    assert next_run is not None and next_run > utc_now() + timedelta(seconds=200)


def test_the_pass_wanted_mark_is_cleared_only_by_a_pass_that_starts(tmp_path: Path) -> None:
    """A pass refused by the lock leaves the mark for the next look; a pass that runs clears it."""
    queue = _queue(tmp_path)
    store = queue.store()
    worker = build_worker(queue.settings, store, clock=lambda: NOW)
    lock = pass_lock(queue.settings)
    try:
        with _served(queue) as api:  # no worker in this process: the state's mark asks
            assert _signed(api, batch([event(queue.request_id, "Done")], NOW)).status_code == 202
        assert worker.team_events is not None and worker.team_events.pass_wanted()
        with pass_lock(queue.settings).acquire(timeout=5):  # a cron tick holds the pass
            assert tick(worker, NOW, lock) is None
        assert worker.team_events.pass_wanted()
        assert tick(worker, NOW, lock) is not None
        assert not worker.team_events.pass_wanted()
    finally:
        worker.close()
        store.close()


def test_a_batch_from_another_spreadsheet_is_422(tmp_path: Path) -> None:
    """On the Google backend, a spreadsheet_id that is not the queue's: 422 naming it."""
    queue = _queue(tmp_path)
    queue.settings = queue.settings.model_copy(
        update={"backend": "gsheets", "spreadsheet_id": "BOOK-OURS"}
    )
    with _served(queue) as api:
        ours = _signed(api, batch([event(queue.request_id, "Done")], NOW, "BOOK-OURS"))
        other = _signed(api, batch([event(queue.request_id, "Done")], NOW, "BOOK-OTHER"))
    assert ours.status_code == 202, ours.text
    assert (other.status_code, other.json()["field"]) == (422, "spreadsheet_id")
