"""The API's own way into the store: one thread, a short-lived snapshot, fresh order data.

A store (a SQLite connection, a gspread client) is used from one thread
only: every call here runs on a dedicated thread that opened it. The queue's
rows are cached for ``max_age`` seconds so answering a bot does not cost a
Sheets read each time; ``POST /v1/requests`` only ever looks at the snapshot
it has (never waits for the sheet) and asks for a refresh in the background.
The order source is rebuilt every ``orders_max_age`` seconds so new orders
show up.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

import structlog

from sheetqueue.config.errors import SheetqueueError, StoreError
from sheetqueue.sheets.model import Request
from sheetqueue.sheets.orders import OrderSource
from sheetqueue.sheets.store import Store

__all__ = ["StoreAccess"]

log = structlog.get_logger("sheetqueue.api")

T = TypeVar("T")

_MISS_REFRESH = 1.0
"""An unknown ID re-reads the queue at most this often (unknown IDs must not drain the quota)."""


class StoreAccess:
    """Calls into one store, serialised on the store's own thread."""

    def __init__(
        self,
        open_store: Callable[[], Store],
        open_orders: Callable[[Store], OrderSource],
        *,
        max_age: float = 5.0,
        orders_max_age: float = 30.0,
        timeout: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._open_store = open_store
        self._open_orders = open_orders
        self.max_age = max_age
        self.orders_max_age = orders_max_age
        self._timeout = timeout
        self._clock = clock
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sheetqueue-store")
        self._store: Store | None = None
        self._orders: tuple[float, OrderSource] | None = None
        self._rows: dict[str, Request] = {}
        self._rows_at = -1e18
        self._rows_lock = threading.Lock()
        self._refreshing: Future[None] | None = None

    def call(self, work: Callable[[Store], T]) -> T:
        """Run ``work(store)`` on the store's thread and wait for it."""
        future = self._executor.submit(self._with_store, work)
        try:
            return future.result(self._timeout)
        except FutureTimeout:
            raise StoreError("the queue did not answer in time; please try again") from None

    def with_orders(self, work: Callable[[OrderSource], T]) -> T:
        """Run ``work(order_source)`` on the store's thread (a Tab source reads the store)."""
        return self.call(lambda store: work(self._order_source(store)))

    def _with_store(self, work: Callable[[Store], T]) -> T:
        if self._store is None:
            self._store = self._open_store()
        return work(self._store)

    def _order_source(self, store: Store) -> OrderSource:
        now = self._clock()
        if self._orders is None or now - self._orders[0] > self.orders_max_age:
            self._orders = (now, self._open_orders(store))
        return self._orders[1]

    # The queue's rows, cached.

    def _load_rows(self, store: Store) -> None:
        rows = {stored.request.request_id: stored.request for stored in store.read_requests()}
        with self._rows_lock:
            self._rows = rows
            self._rows_at = self._clock()

    def refresh(self) -> None:
        """Read the queue now (blocking)."""
        self.call(self._load_rows)

    def find(self, request_id: str) -> Request | None:
        """The row with this ID; the snapshot is refreshed first when it is old or lacks it."""
        with self._rows_lock:
            found = self._rows.get(request_id)
            age = self._clock() - self._rows_at
        if age > self.max_age or (found is None and age > _MISS_REFRESH):
            self.refresh()
            with self._rows_lock:
                found = self._rows.get(request_id)
        return found

    def open_duplicate(self, key: tuple[str, str, str] | None) -> Request | None:
        """An open row of the same conversation, type and order, from the snapshot as it is."""
        with self._rows_lock:
            rows = list(self._rows.values())
            stale = self._clock() - self._rows_at > self.max_age
        if stale:
            self._refresh_in_background()
        if key is None:
            return None
        for row in rows:
            if row.duplicate_key() == key and row.is_open():
                return row
        return None

    def known_closed(self, request_id: str) -> bool:
        """True when the snapshot holds this request as closed (Ineligible, Done, Rejected)."""
        with self._rows_lock:
            row = self._rows.get(request_id)
        return row is not None and not row.is_open()

    def _refresh_in_background(self) -> None:
        with self._rows_lock:
            if self._refreshing is not None and not self._refreshing.done():
                return
            self._refreshing = self._executor.submit(self._quiet_refresh)

    def _quiet_refresh(self) -> None:
        try:
            self._with_store(self._load_rows)
        except SheetqueueError as exc:
            log.warning("api.snapshot_failed", error=str(exc))
        except Exception as exc:  # a vendor error escaping a store: keep the old snapshot
            log.warning("api.snapshot_failed", error=str(exc), error_type=type(exc).__name__)

    def close(self) -> None:
        """Close the store on its own thread and stop the thread."""

        def _close() -> None:
            if self._store is not None:
                self._store.close()
                self._store = None

        try:
            self._executor.submit(_close).result(self._timeout)
        finally:
            self._executor.shutdown(wait=False, cancel_futures=True)
