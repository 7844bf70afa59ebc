"""The queue in a Google Sheet, through gspread: the store port over the Sheets API.

Calls per operation (steady state, no retries):

- ``read_requests``: 2 (``spreadsheets.get`` of the tabs' metadata: the
  column tags of the header contract and the merged cells, no cell values,
  and on the first read the spreadsheet's locale and time zone; then
  ``values.get`` of the whole tab, ``UNFORMATTED_VALUE`` with dates as serial
  numbers, each cell made text once by :mod:`sheetqueue.sheets.sheet_cells`:
  ``1001`` reads ``"1001"``, a date cell reads as an ISO time; text written
  RAW reads back unchanged); 1 on a store that read before (the values
  alone, checked with the metadata kept from that read while row 1 reads
  exactly as it did; see :mod:`sheetqueue.sheets.gsheets_read`), or whose
  state file kept it from an earlier process (:meth:`GsheetsStore.keep_metadata`);
- ``ensure_header``: those same 2 (or 1), handed to the ``read_requests`` that
  follows; adopting a tab (adding missing columns, tagging them) costs a few
  calls, once; a broken header raises :class:`HeaderProblem` (see
  :mod:`sheetqueue.sheets.gsheets_header`) and posts a note, once;
- ``update_cells``: 2 (``values.batchGet`` of the header, the expected
  columns and the log; then one ``values.batchUpdate`` of every cell and log
  line), 1 when nothing is left to write; 1 more first when the read used
  kept metadata (``spreadsheets.get``: it must still hold, or nothing is written);
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
from sheetqueue.sheets.gsheets_header import TabTags, tag_requests
from sheetqueue.sheets.gsheets_layout import Layout, column_letters, quote_tab
from sheetqueue.sheets.gsheets_read import PREFETCH_SECONDS, SheetReader, last_row, table_end
from sheetqueue.sheets.gsheets_retry import Backoff, Transient
from sheetqueue.sheets.gsheets_summary import SummaryTab
from sheetqueue.sheets.gsheets_tabs import Tabs
from sheetqueue.sheets.gsheets_writes import Check, Seen, judge, log_ranges, row_ranges
from sheetqueue.sheets.kept_metadata import KeptMetadata
from sheetqueue.sheets.model import LogEntry, Request, header_names
from sheetqueue.sheets.order_mapping import OrderMapping, mapping_of
from sheetqueue.sheets.order_table import OrderTable
from sheetqueue.sheets.sheet_cells import SheetCells
from sheetqueue.sheets.store import (
    AddResult,
    CellUpdate,
    LandingUnknown,
    QueueRead,
    RowRef,
    StoredRequest,
    UpdateResult,
)

__all__ = ["GsheetsStore"]

log = structlog.get_logger("sheetqueue.gsheets")

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
        self.names = header_names(aliases)
        self.on_alert = on_alert
        self.tab: TabTags | None = None
        self.merged: dict[int, str] = {}
        self.log_tab = log_tab
        self.tabs = Tabs(api, log_tab=log_tab, orders_tab=orders_tab)
        self._clock = clock
        self._layout: Layout | None = None
        self._data_width = 0
        self._prefetched: tuple[float, list[list[Any]]] | None = None
        self.summary = SummaryTab(api, self.tabs, summary_tab)
        self.reader = SheetReader(
            api,
            self.tabs,
            self.summary,
            requests_tab=requests_tab,
            names=self.names,
            date_keys=(mapping or OrderMapping()).date_columns(),
            orders_with_queue=orders_with_queue,
            clock=clock,
            on_alert=on_alert,
        )
        self.summary.guard = self.reader.confirm  # a Summary write alone confirms the read too

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

    @property
    def requests_tab(self) -> str:
        """The queue's tab."""
        return self.reader.requests_tab

    @requests_tab.setter
    def requests_tab(self, title: str) -> None:
        self.reader.requests_tab = title

    @property
    def cells(self) -> SheetCells | None:
        """The spreadsheet's locale and time zone (None until read)."""
        return self.reader.cells

    @property
    def title(self) -> str:
        """The spreadsheet's title ("" until read)."""
        return self.reader.title

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
        return self.reader.queue_read(values, layout, self.merged)

    def _read_tab(self, *, summary: bool = False, fresh: bool = False) -> list[list[Any]]:
        """Values (as the API returned them), the metadata kept or read first; checked (or raise).

        ``summary``: read the Summary tab in the same call (a worker pass);
        ``fresh``: read the metadata first (see :meth:`SheetReader.read_tab`).
        """
        self._prefetched = None
        self._layout = None
        read = self.reader.read_tab(summary=summary, fresh=fresh)
        self.tab, self._layout = read.tab, read.layout
        self._data_width = read.width
        self.merged = read.merged
        if self.merged:
            self._report_merges()
        return read.values

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

    def _take_prefetched(self) -> list[list[Any]] | None:
        prefetched, self._prefetched = self._prefetched, None
        if prefetched is None or self._clock() - prefetched[0] > PREFETCH_SECONDS:
            return None
        return prefetched[1]

    # -- the header -----------------------------------------------------------

    def ensure_header(self) -> list[str]:
        values = self._read_tab(summary=True)
        if self.reader.cached and self._to_adopt():  # it writes: with the metadata read now
            values = self._read_tab(summary=True, fresh=True)
        self._prefetched = (self._clock(), values)
        return self._adopt()

    def _to_adopt(self) -> bool:
        """Whether :meth:`_adopt` has columns to add or tags to write."""
        assert self._layout is not None and self.tab is not None  # set by _read_tab
        return bool(self._layout.missing or tag_requests(self.tab.sheet_id, self._layout, self.tab))

    def _adopt(self) -> list[str]:
        """Add the missing columns right of the header and tag every known one (first sight)."""
        assert self._layout is not None and self.tab is not None  # set by _read_tab
        missing = self._layout.missing
        if missing:
            self._prefetched = None
            self.reader.forget()  # row 1 and the grid change: the next read reads the metadata
            self._add_columns(self._layout, missing)
        tags = tag_requests(self.tab.sheet_id, self._layout, self.tab)
        if tags:
            self.reader.forget()
            self.api.structure(tags)
            log.info("sheet.columns_tagged", tab=self.requests_tab, count=len(tags))
        return missing

    def _add_columns(self, layout: Layout, missing: Sequence[str]) -> None:
        """Write ``missing`` headers right of every used column (never moving one)."""
        if self.reader.bounded:  # the read stopped at the worker's last column: look past it once
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
        values = self._read_tab(fresh=True)  # an append follows: the metadata as it is now
        assert self._layout is not None
        layout = self._layout
        if layout.missing or not (self.tab is not None and self.tab.tagged):
            self._adopt()
            values = self._read_tab()
            assert self._layout is not None
            layout = self._layout
        values = self.reader.texts(values, layout)
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
            answer = self._append([layout.row_of(r) for r in new], last_row(values))
            self._check_landing(answer, table_end(values))
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
        if not self.reader.confirm():  # the kept metadata no longer holds: no row written
            self._layout = None  # the next read reads the metadata afresh
            if log:  # the log lines do not depend on the rows: written after that read
                self.update_cells([], log=log)
            return UpdateResult([], [u.ref for u in updates])
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
        seen = check.read(blocks, self.reader.sheet_cells())
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

    def put_summary(self, table: Sequence[Sequence[str]]) -> bool:
        return self.summary.put(table)

    def append_log(self, entries: Sequence[LogEntry]) -> None:
        if entries:
            self.update_cells([], log=entries)

    def read_log(self) -> list[LogEntry]:
        return self.tabs.read_log()

    def read_orders(self) -> list[dict[str, Any]]:
        return self.reader.read_orders()

    def order_table(self) -> OrderTable:
        """The Orders tab as a table (read with the queue when it was, else 1 call).

        Its cells stay as read; a row is made text (dates the sheet's way) when
        an order is built from it.
        """
        return self.reader.order_table()

    def replace_orders(self, records: Sequence[Mapping[str, Any]]) -> int:
        self.reader.orders_replaced()
        return self.tabs.replace_orders(records)

    def keep_metadata(self, kept: KeptMetadata) -> None:
        """Keep the queue tab's metadata in ``kept`` too, for the next process (a cron tick)."""
        self.reader.kept = kept

    def close(self) -> None:
        self.api.close()
        if self.reader.kept is not None:
            self.reader.kept.close()


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


def _check_columns(layout: Layout, values: Mapping[str, str], tab: str) -> None:
    unknown = [name for name in values if name not in layout.columns]
    if unknown:
        raise StoreError(
            f"no column for {', '.join(sorted(unknown))} in {tab!r}: "
            "run 'sheetqueue init-sheet' to add the missing columns"
        )
