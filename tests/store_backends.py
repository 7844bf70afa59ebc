"""Open each store implementation for the shared contract tests.

The Google Sheets store runs through real gspread over HTTP against one
Sheets API emulator per test process (started on first use, stopped at
exit); every test gets a fresh spreadsheet in it.
"""

from __future__ import annotations

import atexit
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bench.workload import orders, requests
from sheetqueue.config.errors import StoreError
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.gsheets_api import SheetsApi
from sheetqueue.sheets.gsheets_retry import Backoff
from sheetqueue.sheets.gsheets_store import GsheetsStore
from sheetqueue.sheets.model import CANONICAL_HEADER, LOG_HEADER, Request
from sheetqueue.sheets.sqlite_store import SqliteStore
from sheetqueue.sheets.store import Store
from sheetqueue.sheets.testing.emulator import Emulator, emulator_client

__all__ = [
    "gsheets_settings",
    "no_sleep_backoff",
    "open_backend",
    "open_gsheets",
    "shared_emulator",
    "store_on",
]

_EMULATOR: list[Emulator] = []


def shared_emulator() -> Emulator:
    """The emulator of this test process, started on first use (faults and quotas cleared)."""
    if not _EMULATOR:
        emulator = Emulator()
        emulator.start()
        atexit.register(emulator.stop)
        _EMULATOR.append(emulator)
    emulator = _EMULATOR[0]
    emulator.set_faults()
    with emulator.lock:
        emulator.faults.clear()
    emulator.set_quota()
    return emulator


def no_sleep_backoff(slept: list[float] | None = None, **limits: Any) -> Backoff:
    """Backoff that records its waits instead of sleeping."""
    record = slept if slept is not None else []
    return Backoff(sleep=record.append, jitter=lambda: 0.5, **limits)


def open_gsheets(
    emulator: Emulator,
    tabs: Mapping[str, Sequence[Sequence[Any]]] | None = None,
    *,
    backoff: Backoff | None = None,
    timeout: float = 5.0,
    orders_with_queue: bool = False,
) -> tuple[GsheetsStore, str]:
    """A gspread store on a new spreadsheet of ``emulator``; returns it and the spreadsheet id."""
    assert emulator.url is not None
    book = emulator.create_spreadsheet(
        "Queue", tabs if tabs is not None else {"Requests": [list(CANONICAL_HEADER)]}
    )
    store = store_on(
        emulator, book, backoff=backoff, timeout=timeout, orders_with_queue=orders_with_queue
    )
    return store, book


def store_on(
    emulator: Emulator,
    book: str,
    *,
    backoff: Backoff | None = None,
    timeout: float = 5.0,
    orders_with_queue: bool = False,
) -> GsheetsStore:
    """A new gspread store on an existing spreadsheet of ``emulator``."""
    assert emulator.url is not None
    api = SheetsApi(
        emulator_client(emulator.url, timeout), book, backoff=backoff or no_sleep_backoff()
    )
    return GsheetsStore(api, orders_with_queue=orders_with_queue)


def workload_sheet(
    rows: int, open_every: int = 1, header: Sequence[str] = CANONICAL_HEADER
) -> tuple[GsheetsStore, str]:
    """The bench's queue on a new spreadsheet: ``rows`` requests (one in ``open_every``
    Pending) against as many orders, read with the Orders tab; the store and the id."""
    tabs = {"Requests": [list(header)], "Log": [list(LOG_HEADER)], "Orders": []}
    store, book = open_gsheets(shared_emulator(), tabs, orders_with_queue=True)
    store.replace_orders(orders(rows))
    store.add_requests(requests(rows, open_every))
    return store, book


def gsheets_settings(emulator: Emulator, book: str, **overrides: Any) -> Settings:
    """Settings of the gsheets backend on ``book`` of ``emulator``; notices only logged."""
    assert emulator.url is not None
    values: dict[str, Any] = {"notify": ["log:"], **overrides}
    return Settings(backend="gsheets", spreadsheet_id=book, sheets_api_url=emulator.url, **values)


@contextmanager
def open_backend(name: str, tmp_path: Path) -> Iterator[Store]:
    """An empty store of the named kind."""
    if name == "sqlite":
        store = SqliteStore(tmp_path / "queue.db")
        try:
            yield store
        finally:
            store.close()
        return
    if name == "gsheets":
        sheet_store, _book = open_gsheets(shared_emulator())
        try:
            yield sheet_store
        finally:
            sheet_store.close()
        return
    pytest.skip(f"the {name} store is not built yet")


def add_until_landed(
    store: Store, batch: list[Request], *, tries: int = 30, pause: float = 0.0
) -> None:
    """Append as the outbox does: again until the store says the rows are in."""
    for _ in range(tries):
        try:
            store.add_requests(batch)
            return
        except StoreError:
            time.sleep(pause)
    raise AssertionError(f"the rows never landed after {tries} tries")
