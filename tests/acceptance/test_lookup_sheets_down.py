"""Bot lookups while Sheets is down, over quota or slow: a quick answer from the last good copy.

The API is served for real (uvicorn on 127.0.0.1) on the Sheets emulator with
the orders in its Orders tab; the emulator is made to fail or to stall. Times
are only checked against a generous bound; the measured figures are in the
README.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from sheetqueue.bootstrap import build_api
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.model import CANONICAL_HEADER
from sheetqueue.sheets.testing.emulator import Emulator
from sheetqueue.worker.metrics import Metrics
from tests.api_kit import TOKEN, serve
from tests.cli_runner import cli_on_sheet
from tests.factories import make_order_record
from tests.store_backends import shared_emulator, store_on

BOUND = 5.0  # seconds; the promise is 3, the test leaves room for a busy machine
LOOKUP = {"order_id": "ORD-1001", "email": "ana@example.com", "conversation_id": "c1"}
CHECK = {"order_id": "ORD-1001", "email": "ana@example.com", "type": "return"}


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """The shared emulator, its faults cleared again after the test."""
    emulator = shared_emulator()
    yield emulator
    emulator.set_faults()


def _book(emulator: Emulator) -> str:
    book = emulator.create_spreadsheet("Queue", {"Requests": [list(CANONICAL_HEADER)]})
    store = store_on(emulator, book)
    store.replace_orders(
        [make_order_record(status="delivered", shipped_at="2026-11-03", delivered_at="2026-11-05")]
    )
    store.close()
    return book


def _settings(emulator: Emulator, book: str, folder: Path) -> Settings:
    assert emulator.url is not None
    return Settings(
        backend="gsheets",
        spreadsheet_id=book,
        sheets_api_url=emulator.url,
        state_path=folder / "state.db",
        orders="tab:Orders",
        notify=[f"maildir:{folder / 'mail'}"],
        api_token=TOKEN,
    )


def _timed(post: Any, path: str, body: dict[str, Any]) -> tuple[requests.Response, float]:
    started = time.monotonic()
    answer = post(path, body)
    return answer, time.monotonic() - started


def test_lookup_and_eligibility_answer_from_the_copy_while_sheets_fails(
    emulator: Emulator, tmp_path: Path
) -> None:
    """Every call failing (503, then 429): 200 from the last good copy, marked stale, quickly."""
    book = _book(emulator)
    app = build_api(_settings(emulator, book, tmp_path), Metrics(), orders_max_age=0.0)
    with serve(app) as api:
        fresh = api.post("/v1/orders/lookup", LOOKUP)
        assert fresh.status_code == 200 and "stale" not in fresh.json()
        for code in (503, 429):
            emulator.set_faults(rate=1.0, codes=(code,))
            answer, took = _timed(api.post, "/v1/orders/lookup", LOOKUP)
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert body["stale"] is True and body["as_of"].endswith("Z")
            assert body["order"] == fresh.json()["order"]
            assert took < BOUND
            checked, took = _timed(api.post, "/v1/eligibility", CHECK)
            assert checked.status_code == 200 and checked.json()["stale"] is True
            assert checked.json()["decision"].startswith("eligible:")
            assert took < BOUND
        emulator.set_faults()
    assert (tmp_path / "state.db.orders.json").stat().st_mode & 0o077 == 0


def test_a_restarted_api_answers_from_the_copy_on_disk(emulator: Emulator, tmp_path: Path) -> None:
    """The copy survives a restart: a new server with Sheets down still answers, stale."""
    book = _book(emulator)
    settings = _settings(emulator, book, tmp_path)
    with serve(build_api(settings, Metrics())) as api:
        assert api.post("/v1/orders/lookup", LOOKUP).status_code == 200
    emulator.set_faults(rate=1.0, codes=(503,))
    with serve(build_api(settings, Metrics())) as api:
        answer, took = _timed(api.post, "/v1/orders/lookup", LOOKUP)
        assert answer.status_code == 200 and answer.json()["stale"] is True
        assert took < BOUND
        action = api.post("/actions/getOrderDetails", {"args": LOOKUP, "conversation": {}})
        assert action.json()["success"] is True and action.json()["stale"] is True


def test_without_any_copy_the_answer_is_a_quick_503(emulator: Emulator, tmp_path: Path) -> None:
    """Sheets down and never read before: 503 with the error shape, not a minute's wait."""
    book = _book(emulator)
    emulator.set_faults(rate=1.0, codes=(503,))
    with serve(build_api(_settings(emulator, book, tmp_path), Metrics())) as api:
        answer, took = _timed(api.post, "/v1/orders/lookup", LOOKUP)
        assert answer.status_code == 503
        assert set(answer.json()) == {"error"} and "try again" in answer.json()["error"]
        assert took < BOUND


def test_a_slow_sheet_gets_the_copy_then_the_fresh_read(emulator: Emulator, tmp_path: Path) -> None:
    """Each Sheets call taking 4 s: the copy answers at once; once the read lands, it is used."""
    book = _book(emulator)
    app = build_api(_settings(emulator, book, tmp_path), Metrics(), orders_max_age=0.0)
    with serve(app) as api:
        assert api.post("/v1/orders/lookup", LOOKUP).status_code == 200
        emulator.set_faults(delay=4.0)
        answer, took = _timed(api.post, "/v1/orders/lookup", LOOKUP)
        assert answer.status_code == 200 and answer.json()["stale"] is True
        assert took < BOUND
        time.sleep(3)  # the read started by that lookup lands meanwhile
        emulator.set_faults()
        assert "stale" not in api.post("/v1/orders/lookup", LOOKUP).json()


def test_cli_lookup_uses_the_copy_when_sheets_is_down(emulator: Emulator, tmp_path: Path) -> None:
    """``sheetqueue lookup --json``: the copy from its last good read, marked; none: exit 1."""
    book = _book(emulator)
    assert emulator.url is not None
    cli = cli_on_sheet(tmp_path, emulator, book)
    args = ("lookup", "--order", "ORD-1001", "--email", "ana@example.com", "--json")
    fresh = cli(*args)
    assert fresh.code == 0 and "stale" not in fresh.json()
    emulator.set_faults(rate=1.0, codes=(503,))
    stale = cli(*args)
    assert stale.code == 0, stale.stderr
    assert stale.json()["stale"] is True and stale.json()["order"] == fresh.json()["order"]
    (tmp_path / "state.db.orders.json").unlink()
    missing = cli(*args)
    assert missing.code == 1 and "no last good copy" in missing.json()["error"]
