"""The API's own way into the store: one thread, a short-lived snapshot, fresh order data.

A store (a SQLite connection, a gspread client) is used from one thread
only: every call here runs on a dedicated thread that opened it. The queue's
rows are cached for ``max_age`` seconds so answering a bot does not cost a
Sheets read each time; ``POST /v1/requests`` only ever looks at the snapshot
it has (never waits for the sheet) and asks for a refresh in the background.
The order source is rebuilt every ``orders_max_age`` seconds so new orders
show up.

With the Orders tab as the order data (an :class:`OrderCopy` given), a bot's
lookup or eligibility check never waits more than ``budget`` seconds for
Sheets: the tab is re-read in the background when it is older than
``orders_max_age``, and when that read fails or is late the answer comes from
the last good copy, marked with its time. After a failed read Sheets is left
alone for ``retry_after`` seconds (answers come straight from the copy).
With no copy at all, the answer is a quick StoreError (a 503).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC
from typing import Any, TypeVar

import structlog

from sheetqueue.bot_actions.order_copy import BotOrders, OrderCopy, source_from_records
from sheetqueue.config.clock import Clock, utc_now
from sheetqueue.config.errors import SheetqueueError, StoreError
from sheetqueue.sheets.model import Request, RequestType, Status
from sheetqueue.sheets.orders import OrderSource
from sheetqueue.sheets.store import Store, StoredRequest

__all__ = ["StoreAccess"]

log = structlog.get_logger("sheetqueue.api")

T = TypeVar("T")

_MISS_REFRESH = 1.0
"""An unknown ID re-reads the queue at most this often (unknown IDs must not drain the quota)."""

ORDERS_UNAVAILABLE = (
    "We can't look up orders right now. Please try again in a few minutes, or contact our "
    "support team."
)


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
        order_copy: OrderCopy | None = None,
        zone: Any = UTC,
        budget: float = 2.5,
        retry_after: float = 15.0,
        wall_clock: Clock = utc_now,
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
        self._rows: dict[str, StoredRequest] = {}
        self._open_by_key: dict[tuple[str, str, str], StoredRequest] = {}
        self._closed: set[str] = set()
        self._rows_at = -1e18
        self._rows_lock = threading.Lock()
        self._refreshing: Future[None] | None = None
        self._copy = order_copy
        self._zone = zone
        self.budget = budget
        self.retry_after = retry_after
        self._wall = wall_clock
        self._tab: tuple[float, BotOrders] | None = None  # (read at, orders as of then)
        self._tab_reading: Future[None] | None = None
        self._tab_failed_at = -1e18
        self._tab_reading_since = -1e18
        self._stale: BotOrders | None = None  # the last good copy, with its time

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

    def with_bot_orders(self, work: Callable[[OrderSource], T]) -> tuple[T, BotOrders | None]:
        """``work`` on the order data within the budget; the BotOrders used when from the tab."""
        if self._copy is None:
            return self.with_orders(work), None
        orders = self._tab_orders()
        return work(orders.source), orders

    def _tab_orders(self) -> BotOrders:
        with self._rows_lock:
            now = self._clock()
            if self._tab is not None and now - self._tab[0] <= self.orders_max_age:
                return self._tab[1]
            reading = self._tab_reading
            if reading is not None and reading.done():
                reading = None  # its outcome is already in _tab or _tab_failed_at
            if reading is None and now - self._tab_failed_at >= self.retry_after:
                reading = self._tab_reading = self._executor.submit(self._read_tab)
                self._tab_reading_since = now
            # a read already late for an earlier answer is not waited for again
            wait = self.budget - (now - self._tab_reading_since)
        if reading is not None and wait > 0:
            try:
                reading.result(wait)
            except FutureTimeout:
                log.warning("api.orders_slow", budget_seconds=self.budget)
            except Exception as exc:  # noted by _read_tab; the copy answers
                log.warning("api.orders_unavailable", error=str(exc))
            else:
                with self._rows_lock:
                    if self._tab is not None:
                        return self._tab[1]
        return self._last_copy()

    def _read_tab(self) -> None:
        """Read the Orders tab (on the store's thread) and keep it as the last good copy."""
        assert self._copy is not None
        try:
            records = self._with_store(lambda store: store.read_orders())
        except BaseException:
            with self._rows_lock:
                self._tab_failed_at = self._clock()
            raise
        read_at = self._wall()
        fresh = BotOrders(source_from_records(records, self._zone))
        with self._rows_lock:
            self._tab = (self._clock(), fresh)
            self._stale = BotOrders(fresh.source, read_at)
        self._copy.save(records, read_at)

    def _last_copy(self) -> BotOrders:
        """The last good copy, from memory or (after a restart) from its file."""
        with self._rows_lock:
            stale = self._stale
        if stale is not None:
            return stale
        assert self._copy is not None
        loaded = self._copy.load()
        if loaded is None:
            raise StoreError(ORDERS_UNAVAILABLE)
        records, read_at = loaded
        stale = BotOrders(source_from_records(records, self._zone), read_at)
        with self._rows_lock:
            self._stale = stale
        return stale

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
        # rows stay as cells (a model is built only for a row asked for); the open
        # duplicates are indexed once per read instead of scanned per request
        rows = {stored.text("request_id"): stored for stored in store.read_requests()}
        open_by_key: dict[tuple[str, str, str], StoredRequest] = {}
        closed: set[str] = set()
        for request_id, row in rows.items():
            if not _is_open(row):
                closed.add(request_id)
                continue
            key = _duplicate_key(row)
            if key is not None and key not in open_by_key:
                open_by_key[key] = row
        with self._rows_lock:
            self._rows = rows
            self._open_by_key = open_by_key
            self._closed = closed
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
        with self._rows_lock:  # a row's model is built once, by one thread
            found = self._rows.get(request_id)
            return found.request if found is not None else None

    def open_duplicate(self, key: tuple[str, str, str] | None) -> Request | None:
        """An open row of the same conversation, type and order, from the snapshot as it is."""
        with self._rows_lock:
            found = self._open_by_key.get(key) if key is not None else None
            request = found.request if found is not None else None
            stale = self._clock() - self._rows_at > self.max_age
        if stale:
            self._refresh_in_background()
        return request

    def known_closed(self, request_id: str) -> bool:
        """True when the snapshot holds this request as closed (Ineligible, Done, Rejected)."""
        with self._rows_lock:
            return request_id in self._closed

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


def _duplicate_key(row: StoredRequest) -> tuple[str, str, str] | None:
    """:meth:`Request.duplicate_key` of the row, read from its cells."""
    conversation = row.text("conversation_id").strip()
    if not conversation:
        return None
    written = row.text("type")
    kind = RequestType.parse(written)
    return (
        conversation,
        kind.value if kind is not None else written.strip().lower(),
        row.text("order_id").strip().lower(),
    )


def _is_open(row: StoredRequest) -> bool:
    """:meth:`Request.is_open` of the row, read from its cells."""
    status = Status.parse(row.text("status"))
    return status is None or not status.is_closed
