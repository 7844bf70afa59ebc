"""The queue in a Google Sheet, through gspread: the store port over the Sheets API.

Calls per operation (steady state, no retries):

- ``read_requests``: 2 (``spreadsheets.get`` of the tabs' metadata: the
  column tags of the header contract and the merged cells, no cell values,
  and on the first read the spreadsheet's locale and time zone; then
  ``values.get`` of the whole tab, ``UNFORMATTED_VALUE`` with dates as serial
  numbers, each cell made text once by :mod:`sheetqueue.sheets.sheet_cells`:
  ``1001`` reads ``"1001"``, a date cell reads as an ISO time; text written
  RAW reads back unchanged);
- ``ensure_header``: those same 2, handed to the ``read_requests`` that
  follows; adopting a tab (adding missing columns, tagging them) costs a few
  calls, once; a broken header raises :class:`HeaderProblem` (see
  :mod:`sheetqueue.sheets.gsheets_header`) and posts a note, once;
- ``update_cells``: 2 (``values.batchGet`` of the header, the expected
  columns and the log; then one ``values.batchUpdate`` of every cell and log
  line), 1 when nothing is left to write;
- ``add_requests``: 2 (a read for the duplicate check, one ``values.append``);
  an append whose answer is lost is not tried again here (it may still land):
  it raises ``LandingUnknown`` for the outbox to wait out and look up;
- ``append_log``: 2; ``read_log`` and ``read_orders``: 1.

Writes go RAW, so shopper text is never a formula or a number. A write whose
answer is lost (timeout, 5xx) is checked before it is tried again: the log
lines it carried, or the cells it set, show whether it landed.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import structlog

from sheetqueue.config.errors import ConfigError, StoreError
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.gsheets_api import Refused, SheetsApi, open_client
from sheetqueue.sheets.gsheets_header import (
    METADATA_FIELDS,
    HeaderProblem,
    TabTags,
    alert_requests,
    check_tagged,
    check_untagged,
    find_queue_tab,
    merged_rows,
    read_tabs,
    tag_requests,
)
from sheetqueue.sheets.gsheets_layout import Layout, cell_text, column_letters, quote_tab
from sheetqueue.sheets.gsheets_retry import Backoff, Transient
from sheetqueue.sheets.gsheets_summary import SummaryTab
from sheetqueue.sheets.gsheets_tabs import Tabs, orders_from_values
from sheetqueue.sheets.gsheets_writes import Check, Seen, judge, log_ranges, row_ranges
from sheetqueue.sheets.model import LogEntry, Request, header_names
from sheetqueue.sheets.order_mapping import OrderMapping, key_of, mapping_of
from sheetqueue.sheets.order_table import OrderTable
from sheetqueue.sheets.sheet_cells import LOCALE_FIELDS, QUEUE_DATE_FIELDS, SheetCells, cell_value
from sheetqueue.sheets.store import (
    AddResult,
    CellReader,
    CellUpdate,
    LandingUnknown,
    QueueRead,
    RowRef,
    StoredRequest,
    UpdateResult,
)

__all__ = ["GsheetsStore"]

log = structlog.get_logger("sheetqueue.gsheets")

_PREFETCH_SECONDS = 10.0
_LANDED_AT = re.compile(r"!([A-Z]+)(\d+)")


class GsheetsStore:
    """The queue in the ``Requests`` tab, the audit log in ``Log``, orders in ``Orders``."""

    def __init__(
        self,
        api: SheetsApi,
        *,
        requests_tab: str = "Requests",
        log_tab: str = "Log",
        orders_tab: str = "Orders",
        orders_with_queue: bool = False,
        clock: Callable[[], float] = time.monotonic,
        aliases: Mapping[str, Sequence[str]] | None = None,
        on_alert: Callable[[str], None] | None = None,
        summary_tab: str = "",
        mapping: OrderMapping | None = None,
    ) -> None:
        self.api = api
        self._date_keys = (mapping or OrderMapping()).date_columns()  # read as dates
        self.names = header_names(aliases)
        self.on_alert = on_alert
        self.tab: TabTags | None = None
        self.merged: dict[int, str] = {}
        self.requests_tab = requests_tab
        self.log_tab = log_tab
        self.tabs = Tabs(api, log_tab=log_tab, orders_tab=orders_tab)
        self._clock = clock
        self._layout: Layout | None = None
        self._data_width = 0
        self._prefetched: tuple[float, list[list[Any]]] | None = None
        self._bounded = False  # the last read stopped at the worker's last tagged column
        # With tab:Orders a pass needs the orders right after the queue: read both in
        # one batchGet and keep the orders for the read_orders() that follows.
        self._orders_configured = orders_with_queue
        self._orders_with_queue = orders_with_queue
        self._orders_read: tuple[float, list[list[Any]]] | None = None
        self.cells: SheetCells | None = None  # the spreadsheet's locale and zone, read once
        self.title = ""  # the spreadsheet's title, once read
        self.summary = SummaryTab(api, self.tabs, summary_tab)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        backoff: Backoff | None = None,
        on_call: Callable[[str, bool], None] | None = None,
        on_alert: Callable[[str], None] | None = None,
    ) -> GsheetsStore:
        """The store the settings name (``SHEETQUEUE_SPREADSHEET_ID`` and friends)."""
        settings.require_gsheets()
        try:
            header_names(settings.sheet.aliases)
        except ValueError as exc:
            raise ConfigError(f"[sheet.aliases] (SHEETQUEUE_SHEET__ALIASES): {exc}") from None
        client, sign_in = open_client(settings)
        api = SheetsApi(
            client, settings.spreadsheet_id, backoff=backoff, on_call=on_call, sign_in=sign_in
        )
        orders_tab = "Orders"
        if settings.orders.startswith("tab:"):
            orders_tab = settings.orders.removeprefix("tab:") or "Orders"
        return cls(
            api,
            requests_tab=settings.requests_tab,
            log_tab=settings.log_tab,
            orders_tab=orders_tab,
            orders_with_queue=settings.orders.startswith("tab:"),
            aliases=settings.sheet.aliases,
            on_alert=on_alert,
            summary_tab=settings.summary_tab,
            mapping=mapping_of(settings),
        )

    @property
    def calls(self) -> int:
        """Sheets API calls made so far (retries included)."""
        return self.api.calls

    @property
    def retries(self) -> int:
        """Calls tried again after a transient failure."""
        return self.api.retries

    @property
    def layout(self) -> Layout | None:
        """The header as last read or written (None before the first read)."""
        return self._layout

    # -- reading --------------------------------------------------------------

    def read_requests(self) -> list[StoredRequest]:
        return list(self.read_queue())

    def read_queue(self) -> QueueRead:
        """Every row of the queue, in one read, kept as the cells the API returned.

        A cell is made text (dates the sheet's way) only when it is read, so
        the columns a pass does not look at are never converted.
        """
        values = self._take_prefetched()
        if values is None:
            values = self._read_tab()
        layout = self._layout or Layout.from_header([])
        columns = dict(layout.columns)
        merged = self.merged
        holds = layout.holds_request
        first = columns.get("request_id", -1)
        rows: list[list[Any]] = []
        positions: list[int] = []
        for number, row in enumerate(values, start=1):
            if number == 1 or (merged and number in merged):
                continue
            value = row[first] if 0 <= first < len(row) else ""
            if (type(value) is str and value.strip()) or holds(row):
                rows.append(row)
                positions.append(number)
        reader, dates = self._reader(layout)
        return QueueRead(rows, positions, columns, reader, dates)

    def _reader(self, layout: Layout) -> tuple[CellReader, frozenset[int]]:
        """How a queue cell becomes text, and the date columns that reads the sheet's way."""
        dates = frozenset(layout.columns[n] for n in QUEUE_DATE_FIELDS if n in layout.columns)
        date_cell = self._sheet_cells().date_cell
        tab = self.requests_tab

        def read(number: int, index: int, value: Any) -> str:
            if index in dates:
                return date_cell(value, f"{tab}!{column_letters(index)}{number}")
            return value if type(value) is str else cell_value(value)

        return read, dates

    def _read_tab(self, *, summary: bool = False) -> list[list[Any]]:
        """Metadata, then values (as the API returned them); the header checked (or raise).

        ``summary``: read the Summary tab in the same call (a worker pass).
        """
        self._prefetched = None
        self._layout = None
        if self.cells is None:
            answer = self.api.metadata(f"{LOCALE_FIELDS},{METADATA_FIELDS}")
            self.cells = SheetCells.from_properties(answer)
        else:
            answer = self.api.metadata(METADATA_FIELDS)
        self.title = str(answer.get("properties", {}).get("title", self.title))
        tabs = read_tabs(answer)
        self.summary.found(answer)
        try:
            tab = find_queue_tab(tabs, self.requests_tab)
        except HeaderProblem as problem:
            self._stop(next(t for t in tabs if t.title == problem.tab), problem)
            raise
        try:
            values = self._read_queue_and_orders(tab, with_summary=summary)
        except Refused as exc:
            raise StoreError(
                f"no tab {self.requests_tab!r} in the spreadsheet: run 'sheetqueue init-sheet' "
                f"or set SHEETQUEUE_REQUESTS_TAB ({exc.text})"
            ) from exc
        try:
            if tab.tagged:
                layout = check_tagged(values, tab, self.names)
            else:
                layout = check_untagged(values, self.names, tab.title)
        except HeaderProblem as problem:
            self._stop(tab, problem)
            raise
        if tab.alert is not None:
            self._post(tab, layout, None)
        self.tab, self._layout = tab, layout
        self._data_width = max(map(len, values), default=0)
        self.merged = merged_rows(tab.merges, layout)
        if self.merged:
            self._report_merges()
        return values

    def _stop(self, tab: TabTags, problem: HeaderProblem) -> None:
        """Say it once: a log line and a metric every time, the note in the sheet once."""
        log.error(
            "sheet.stopped",
            tab=problem.tab,
            reason=problem.reason,
            problem=problem.problem,
            fix=problem.fix,
        )
        if self.on_alert is not None:
            self.on_alert(problem.reason)
        if tab.alert != str(problem):
            self._post(tab, None, str(problem))

    def _post(self, tab: TabTags, layout: Layout | None, text: str | None) -> None:
        """The alert note on the Request ID header (A1 without one); None takes it down."""
        where = tab.columns.get("request_id") or []
        column = where[0] if len(where) == 1 else 0
        if layout is not None:
            column = layout.columns.get("request_id", column)
        try:
            self.api.structure(alert_requests(tab, column, text))
        except StoreError as exc:  # the alert is a courtesy: the stop itself stands
            log.warning("sheet.alert_not_posted", tab=tab.title, error=str(exc))

    def _report_merges(self) -> None:
        ranges = sorted(set(self.merged.values()))
        log.warning(
            "sheet.merged_cells",
            tab=self.requests_tab,
            ranges=ranges,
            rows=sorted(self.merged),
            action="rows skipped: unmerge the cells in the worker's columns",
        )
        if self.on_alert is not None:
            self.on_alert("merged_cells")

    def _read_queue_and_orders(
        self, tab: TabTags | None = None, *, with_summary: bool = False
    ) -> list[list[Any]]:
        """The queue's columns, the Orders tab and (a worker pass) the Summary tab: 1 call."""
        queue = quote_tab(self.requests_tab)
        ranges = _queue_ranges(queue, tab)
        self._bounded = len(ranges) > 1
        summary = self.summary.read_ranges() if with_summary else []  # same call, if the tab is
        if self._orders_with_queue:
            try:
                blocks = self.api.batch_get(
                    [*ranges, quote_tab(self.tabs.orders_tab), *summary], unformatted=True
                )
            except Refused:  # no Orders tab yet: read the queue alone until one is written
                self._orders_with_queue = False
            else:
                orders = blocks.pop(len(ranges))
                self._orders_read = (self._clock(), orders)
                return self._split_summary(blocks, len(ranges), with_summary)
        if summary or self._bounded:
            blocks = self.api.batch_get([*ranges, *summary], unformatted=True)
            return self._split_summary(blocks, len(ranges), with_summary)
        if with_summary:
            self.summary.read([])  # no tab (or none kept): nothing is known to be there
        return self.api.get(queue, unformatted=True)

    def _split_summary(
        self, blocks: list[list[list[Any]]], queue_blocks: int, with_summary: bool
    ) -> list[list[Any]]:
        """The queue's rows from its blocks; the Summary tab's block (if read) kept as text."""
        if with_summary:
            seen = blocks[queue_blocks:]
            self.summary.read([[[cell_text(c) for c in row] for row in b] for b in seen])
        return _joined(blocks[:queue_blocks])

    def _sheet_cells(self) -> SheetCells:
        """The spreadsheet's locale and time zone (1 call, once, when no queue read had them)."""
        if self.cells is None:
            self.cells = SheetCells.from_properties(self.api.metadata(LOCALE_FIELDS))
        return self.cells

    def _texts(self, values: list[list[Any]], layout: Layout) -> list[list[Any]]:
        """The queue's cells as text, once, where they enter (dates the sheet's way)."""
        dates = [layout.columns[name] for name in QUEUE_DATE_FIELDS if name in layout.columns]
        return list(self._sheet_cells().rows(values, dates, self.requests_tab))

    def _order_texts(self, values: list[list[Any]]) -> list[list[Any]]:
        """The Orders tab's cells as text, once; the mapping's date columns read the sheet's way."""
        return list(
            self._sheet_cells().rows(values, self._order_dates(values), self.tabs.orders_tab)
        )

    def _order_dates(self, values: list[list[Any]]) -> frozenset[int]:
        """The Orders tab's date columns: where the mapping's date field names head one."""
        header = [str(cell) for cell in values[0]] if values else []
        return frozenset(i for i, name in enumerate(header) if key_of(name) in self._date_keys)

    def _take_prefetched(self) -> list[list[Any]] | None:
        prefetched, self._prefetched = self._prefetched, None
        if prefetched is None or self._clock() - prefetched[0] > _PREFETCH_SECONDS:
            return None
        return prefetched[1]

    # -- the header -----------------------------------------------------------

    def ensure_header(self) -> list[str]:
        values = self._read_tab(summary=True)
        self._prefetched = (self._clock(), values)
        return self._adopt()

    def _adopt(self) -> list[str]:
        """Add the missing columns right of the header and tag every known one (first sight)."""
        assert self._layout is not None and self.tab is not None  # set by _read_tab
        missing = self._layout.missing
        if missing:
            self._prefetched = None
            self._add_columns(self._layout, missing)
        tags = tag_requests(self.tab.sheet_id, self._layout, self.tab)
        if tags:
            self.api.structure(tags)
            log.info("sheet.columns_tagged", tab=self.requests_tab, count=len(tags))
        return missing

    def _add_columns(self, layout: Layout, missing: Sequence[str]) -> None:
        """Write ``missing`` headers right of every used column (never moving one)."""
        if self._bounded:  # the read stopped at the worker's last column: look past it once
            values = self.api.get(quote_tab(self.requests_tab))
            self._data_width = max((len(row) for row in values), default=0)
        start = max(layout.width, self._data_width)
        self.tabs.ensure_columns(self.requests_tab, start + len(missing))
        first, last = column_letters(start), column_letters(start + len(missing) - 1)
        self.api.update(f"{quote_tab(self.requests_tab)}!{first}1:{last}1", [list(missing)])
        padded = [*layout.header, *([""] * (start - layout.width)), *missing]
        self._layout = Layout.from_header(padded, self.names)
        self._data_width = max(self._data_width, len(padded))
        log.info("sheet.columns_added", tab=self.requests_tab, columns=list(missing))

    # -- adding ---------------------------------------------------------------

    def add_requests(self, requests: Sequence[Request]) -> AddResult:
        self._prefetched = None
        if not requests:
            return AddResult([], [])
        sent: set[str] = set()
        return self.api.backoff.run(lambda: self._add_once(requests, sent), self.api.count_retry)

    def _add_once(self, requests: Sequence[Request], sent: set[str]) -> AddResult:
        values = self._read_tab()
        assert self._layout is not None
        layout = self._layout
        if layout.missing or not (self.tab is not None and self.tab.tagged):
            self._adopt()
            values = self._read_tab()
            assert self._layout is not None
            layout = self._layout
        values = self._texts(values, layout)
        by_id: dict[str, Request] = {}
        open_by_key: dict[tuple[str, str, str], Request] = {}
        for row in values[1:]:
            _index(layout.request_of(row), by_id, open_by_key)
        stored: list[Request] = []
        created: list[bool] = []
        new: list[Request] = []
        for request in requests:
            key = request.duplicate_key()
            existing = by_id.get(request.request_id) if request.request_id else None
            if existing is None and key is not None:
                existing = open_by_key.get(key)
            if existing is not None:
                stored.append(existing)
                created.append(bool(request.request_id) and request.request_id in sent)
                continue
            new.append(request)
            _index(request, by_id, open_by_key)
            stored.append(request)
            created.append(True)
        if new:
            sent.update(request.request_id for request in new if request.request_id)
            answer = self._append([layout.row_of(r) for r in new], _last_row(values))
            self._check_landing(answer, _table_end(values))
        return AddResult(stored, created)

    def _append(self, rows: list[list[str]], last_row: int) -> dict[str, Any]:
        """One append after the table at ``last_row``; a lost answer is :class:`LandingUnknown`.

        The append is anchored at the last row with a first cell the read saw,
        not at row 1: a blank row the team left inside the queue would end the
        table there, and an ``INSERT_ROWS`` append into it would push every row
        below down one, under another process's check-then-write of those rows.
        """
        try:
            return self.api.append(f"{quote_tab(self.requests_tab)}!A{last_row}", rows)
        except Transient as exc:
            if exc.maybe_applied:
                raise LandingUnknown(
                    f"{exc}: the rows may still land; look their Request IDs up "
                    "before sending them again"
                ) from exc
            raise

    def _check_landing(self, answer: Mapping[str, Any], expected_row: int) -> None:
        landed = str(answer.get("updates", {}).get("updatedRange", ""))
        match = _LANDED_AT.search(landed)
        if match is None:
            raise StoreError(f"the Sheets API did not say where the new rows went ({landed!r})")
        if match.group(1) != "A":
            raise StoreError(
                f"new rows landed at {landed}, not in column A: check {self.requests_tab!r} "
                "for a stray table left of the header"
            )
        if int(match.group(2)) != expected_row:
            log.warning(
                "sheet.append_moved", tab=self.requests_tab, landed=landed, expected=expected_row
            )

    # -- writing --------------------------------------------------------------

    def update_cells(
        self, updates: Sequence[CellUpdate], log: Sequence[LogEntry] = ()
    ) -> UpdateResult:
        self._prefetched = None
        if not updates and not log:
            self.summary.flush()
            return UpdateResult()
        if self._layout is None:
            self._read_tab()
        layout = self._layout
        assert layout is not None
        merged = [u for u in updates if u.ref.position in self.merged]
        if merged:
            updates = [u for u in updates if u.ref.position not in self.merged]
        for update in updates:
            _check_columns(layout, update.values, self.requests_tab)
        applied: list[RowRef] = []
        skipped: list[RowRef] = []
        for part, part_log in _chunks(updates, log, WRITE_LIMIT_BYTES):
            done = self._update_part(layout, part, part_log)
            applied += done.applied
            skipped += done.skipped
        result = UpdateResult(applied, skipped)
        if merged:
            result = UpdateResult(result.applied, [*result.skipped, *(u.ref for u in merged)])
        self.summary.flush()  # nothing carried it (every row skipped): one write of its own
        return result

    def _update_part(
        self, layout: Layout, updates: Sequence[CellUpdate], log: Sequence[LogEntry]
    ) -> UpdateResult:
        """One compare-and-set write: the pre-write check, then one ``values.batchUpdate``."""
        with_log = bool(log) or any(update.log for update in updates)
        check = Check.for_updates(self.requests_tab, self.log_tab, layout, updates, with_log)
        state = _Attempt()
        result: UpdateResult = self.api.backoff.run(
            lambda: self._update_once(check, layout, updates, log, state), self.api.count_retry
        )
        return result

    def _update_once(
        self,
        check: Check,
        layout: Layout,
        updates: Sequence[CellUpdate],
        extra_log: Sequence[LogEntry],
        state: _Attempt,
    ) -> UpdateResult:
        seen = self._check(check, layout)
        if seen is None:
            return UpdateResult([], [u.ref for u in updates])
        if state.lost is not None and state.lost_log and seen.log_holds(*state.lost_log):
            return state.lost
        verdict = judge(updates, seen, after_lost_write=state.lost is not None)
        entries = [*extra_log, *(e for u in [*verdict.write, *verdict.landed] for e in u.log)]
        data = [item for update in verdict.write for item in row_ranges(check.tab, layout, update)]
        start = 0
        if entries:
            start, written = log_ranges(self.log_tab, len(seen.log_rows), entries)
            data += written
        applied = {id(u) for u in [*verdict.write, *verdict.landed]}
        result = UpdateResult(
            [u.ref for u in updates if id(u) in applied],
            [u.ref for u in updates if id(u) not in applied],
        )
        if data:
            summary = self.summary.ranges()
            self._write([*data, *summary], state, result, (start, entries) if entries else None)
            self.summary.written(summary)
        return result

    def _check(self, check: Check, layout: Layout) -> Seen | None:
        """The pre-write read; None when the header moved (nothing may be written)."""
        try:
            blocks = self.api.batch_get(check.ranges(layout), major="COLUMNS", unformatted=True)
        except Refused as exc:
            if not check.with_log or not self.tabs.ensure_log():
                raise
            blocks = self.api.batch_get(check.ranges(layout), major="COLUMNS", unformatted=True)
            log.info("sheet.log_tab_created", tab=self.log_tab, after=exc.text)
        seen = check.read(blocks, self._sheet_cells())
        if not layout.holds_header(seen.header):
            log.warning("sheet.header_moved", tab=self.requests_tab)
            self._layout = None
            return None
        return seen

    def _write(
        self,
        data: list[dict[str, Any]],
        state: _Attempt,
        result: UpdateResult,
        lines: tuple[int, list[LogEntry]] | None,
    ) -> None:
        try:
            self._write_once(data, state, result, lines)
        except Refused as exc:
            if lines is None or "exceeds grid limits" not in exc.text:
                raise
            self.tabs.grow_log(lines[0] + len(lines[1]))
            self._write_once(data, state, result, lines)

    def _write_once(
        self,
        data: list[dict[str, Any]],
        state: _Attempt,
        result: UpdateResult,
        lines: tuple[int, list[LogEntry]] | None,
    ) -> None:
        try:
            self.api.batch_write(data, retry=False)
        except Transient as exc:
            if exc.maybe_applied:
                state.lost, state.lost_log = result, lines
            raise

    # -- side tabs ------------------------------------------------------------

    def summary_seen(self) -> list[list[Any]] | None:
        return self.summary.seen

    def put_summary(self, table: Sequence[Sequence[str]]) -> None:
        self.summary.put(table)

    def append_log(self, entries: Sequence[LogEntry]) -> None:
        if entries:
            self.update_cells([], log=entries)

    def read_log(self) -> list[LogEntry]:
        return self.tabs.read_log()

    def read_orders(self) -> list[dict[str, Any]]:
        read, self._orders_read = self._orders_read, None
        if read is not None and self._clock() - read[0] <= _PREFETCH_SECONDS:
            return orders_from_values(self._order_texts(read[1]))
        return orders_from_values(self._order_texts(self.tabs.read_order_values(unformatted=True)))

    def order_table(self) -> OrderTable:
        """The Orders tab as a table (read with the queue when it was, else 1 call).

        Its cells stay as read; a row is made text (dates the sheet's way) when
        an order is built from it.
        """
        read, self._orders_read = self._orders_read, None
        if read is not None and self._clock() - read[0] <= _PREFETCH_SECONDS:
            values = read[1]
        else:
            values = self.tabs.read_order_values(unformatted=True)
        cells, dates, tab = self._sheet_cells(), self._order_dates(values), self.tabs.orders_tab

        def texts(index: int, row: Sequence[Any]) -> list[str]:
            return cells.row(row, dates, index + 2, tab)

        return OrderTable(values[0] if values else [], values[1:], texts)

    def replace_orders(self, records: Sequence[Mapping[str, Any]]) -> int:
        self._orders_read = None
        self._orders_with_queue = self._orders_configured
        return self.tabs.replace_orders(records)

    def close(self) -> None:
        self.api.close()


class _Attempt:
    """What a failed write left behind, for the next try to look at."""

    def __init__(self) -> None:
        self.lost: UpdateResult | None = None
        self.lost_log: tuple[int, list[LogEntry]] | None = None


def _index(
    request: Request | None,
    by_id: dict[str, Request],
    open_by_key: dict[tuple[str, str, str], Request],
) -> None:
    if request is None:
        return
    if request.request_id:
        by_id.setdefault(request.request_id, request)
    key = request.duplicate_key()
    if key is not None and request.is_open():
        open_by_key.setdefault(key, request)


def _chunks(
    updates: Sequence[CellUpdate], log: Sequence[LogEntry], limit: int
) -> list[tuple[list[CellUpdate], list[LogEntry]]]:
    """Updates in parts whose write stays under ``limit`` bytes (as JSON, estimated).

    Each part is its own compare-and-set write (its own pre-write check), so
    every row is still checked just before its cells are written. ``log``
    (changes seen, not made) goes with the first part.
    """
    parts: list[tuple[list[CellUpdate], list[LogEntry]]] = [([], list(log))]
    size = sum(_entry_bytes(entry) for entry in log)
    for update in updates:
        cost = sum(_RANGE_BYTES + _text_bytes(value) for value in update.values.values())
        cost += sum(_entry_bytes(entry) for entry in update.log)
        if parts[-1][0] and size + cost > limit:
            parts.append(([], []))
            size = 0
        parts[-1][0].append(update)
        size += cost
    return parts


_RANGE_BYTES = 96  # a ValueRange around one run of cells: range, majorDimension, brackets
WRITE_LIMIT_BYTES = 2_000_000
"""The largest ``values.batchUpdate`` body sent at once (Google advises at most 2 MB)."""


def _entry_bytes(entry: LogEntry) -> int:
    return sum(_text_bytes(cell) for cell in entry.cells()) + 8


def _text_bytes(text: str) -> int:
    """What one cell's text takes in the JSON body, with its quotes and comma."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return len(text) + 3
    return len(json.dumps(text)) + 1


def _queue_ranges(queue: str, tab: TabTags | None) -> list[str]:
    """The ranges of the queue a pass reads: the whole tab, or the worker's columns only.

    On a tab the worker tagged, the metadata says where each of its columns is
    before any cell is read, so the read is row 1 whole (the header contract
    checks every header cell) and, below it, columns A to the rightmost tagged
    one: team columns right of it are not downloaded. Until every field the tab
    remembers has its tag, the whole tab is read.
    """
    if tab is None or not tab.columns or tab.queue_fields is None:
        return [queue]
    if any(name not in tab.columns for name in tab.queue_fields):
        return [queue]
    last = max(index for where in tab.columns.values() for index in where)
    return [f"{queue}!1:1", f"{queue}!A2:{column_letters(last)}"]


def _joined(blocks: Sequence[list[list[Any]]]) -> list[list[Any]]:
    """Row 1 and the rows below it (read as two ranges) as one table, as a whole-tab read gives."""
    if len(blocks) == 1:
        return blocks[0]
    header, body = blocks
    if not body:
        return header
    return [header[0] if header else [], *body]


def _last_row(values: Sequence[Sequence[Any]]) -> int:
    """The sheet row of the last row whose first cell is filled (1, the header, when none).

    An append anchored there starts in column A (a table found from a blank
    first cell would start further right) and lands after the rows below it
    that join its table, such as rows the team typed without a Request ID.
    """
    for index in range(len(values) - 1, 0, -1):
        row = values[index]
        if row and str(row[0]).strip():
            return index + 1
    return 1


def _table_end(values: Sequence[Sequence[Any]]) -> int:
    """The row after the table that holds :func:`_last_row` (where an append lands)."""
    end = _last_row(values)
    while end < len(values) and any(str(cell).strip() for cell in values[end]):
        end += 1
    return end + 1


def _check_columns(layout: Layout, values: Mapping[str, str], tab: str) -> None:
    unknown = [name for name in values if name not in layout.columns]
    if unknown:
        raise StoreError(
            f"no column for {', '.join(sorted(unknown))} in {tab!r}: "
            "run 'sheetqueue init-sheet' to add the missing columns"
        )
