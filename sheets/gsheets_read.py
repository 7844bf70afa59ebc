"""Reading the queue tab: the metadata and the ``values`` answers made into rows.

One :class:`SheetReader` per store. It reads the tabs' metadata (the header
contract's tags, the merged cells and, once, the spreadsheet's locale and
time zone), then the queue's columns in one call, with the Orders tab
(``tab:Orders``) and the Summary tab (a worker pass) in that same call; it
checks the header and turns the cells into text where they are read.

The metadata is kept for the next read
(:class:`~sheetqueue.sheets.metadata_memory.MetadataMemory`), which then costs
1 call: the values first, where the kept tags say, and the kept metadata used
only when row 1 reads exactly as it did with it (:meth:`SheetReader.read_tab`).
A write after such a read has it confirmed first (:meth:`SheetReader.confirm`,
1 call). With :attr:`SheetReader.kept` (a worker's state file) the metadata
read afresh is also kept for the next process (a cron ``tick``), on the same terms.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import structlog

from sheetqueue.config.errors import StoreError
from sheetqueue.sheets.encoded_rows import EncodedRows, picked
from sheetqueue.sheets.gsheets_api import Refused, SheetsApi
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
)
from sheetqueue.sheets.gsheets_layout import Layout, cell_text, column_letters, quote_tab
from sheetqueue.sheets.gsheets_summary import SummaryTab
from sheetqueue.sheets.gsheets_tabs import Tabs, orders_from_values
from sheetqueue.sheets.kept_entries import KeptEntries
from sheetqueue.sheets.metadata_memory import Known, MetadataMemory
from sheetqueue.sheets.order_fields import key_of
from sheetqueue.sheets.order_table import OrderTable
from sheetqueue.sheets.queue_rows import scan_rows
from sheetqueue.sheets.sheet_cells import LOCALE_FIELDS, QUEUE_DATE_FIELDS, SheetCells, cell_value
from sheetqueue.sheets.store import CellReader, QueueRead, column_texts

__all__ = ["PREFETCH_SECONDS", "SheetReader", "TabRead", "last_row", "table_end"]

log = structlog.get_logger("sheetqueue.gsheets")

PREFETCH_SECONDS = 10.0
"""How long values read ahead (the queue for the next read, the orders with the queue) stay good."""


@dataclass(frozen=True)
class TabRead:
    """One read of the queue tab: its cells as the API returned them, the header checked."""

    values: Sequence[list[Any]]  # encoded rows (a batchGet) or decoded (a values.get)
    tab: TabTags
    layout: Layout
    merged: dict[int, str]  # sheet row -> the merged range that covers it


class SheetReader:
    """Reads the queue tab (with the Orders and Summary tabs when they go along)."""

    def __init__(
        self,
        api: SheetsApi,
        tabs: Tabs,
        summary: SummaryTab,
        *,
        requests_tab: str,
        names: dict[str, str],
        date_keys: frozenset[str],
        orders_with_queue: bool,
        clock: Callable[[], float] = time.monotonic,
        on_alert: Callable[[str], None] | None = None,
    ) -> None:
        self.api = api
        self.tabs = tabs
        self.summary = summary
        self.requests_tab = requests_tab
        self.names = names
        self.on_alert = on_alert
        self._date_keys = date_keys  # the Orders columns read as dates
        self._clock = clock
        self.bounded = False  # the last read stopped at the worker's last tagged column
        # With tab:Orders a pass needs the orders right after the queue: read both in
        # one batchGet and keep the orders for the read_orders() that follows.
        self._orders_configured = orders_with_queue
        self._orders_with_queue = orders_with_queue
        self._orders_read: tuple[float, Sequence[Sequence[Any]]] | None = None
        self.cells: SheetCells | None = None  # the spreadsheet's locale and zone, read once
        self.title = ""  # the spreadsheet's title, once read
        self.memory = MetadataMemory(requests_tab, summary.found)  # the metadata last read
        self.cached = False  # the last read used kept metadata: confirm() it before a write
        self._cells_kept = False  # the locale and zone came from the kept entry: read them again

    @property
    def kept(self) -> KeptEntries | None:
        """Where the metadata is kept between processes (None: in this process only)."""
        return self.memory.kept

    @kept.setter
    def kept(self, kept: KeptEntries | None) -> None:
        self.memory.kept = kept

    # -- the queue ------------------------------------------------------------

    def read_tab(self, *, summary: bool = False, fresh: bool = False) -> TabRead:
        """Values, checked with the metadata kept from the last read or read now (or raise).

        ``summary``: read the Summary tab in the same call (a worker pass).
        ``fresh``: read the metadata first whatever is kept (a read a write follows at once).
        """
        known = None if fresh else self._usable()
        if known is not None:
            read = self._read_known(known, summary)
            if read is not None:
                return read
        return self._read_fresh(summary)

    def _usable(self) -> Known | None:
        """The metadata kept from the last read, unless an alert is up (or it was forgotten)."""
        known = self.memory.known
        if known is None:
            entry = self.memory.load(self.title)  # what an earlier process kept, once
            if entry is not None:
                if self.cells is None:
                    self.cells, self._cells_kept = entry.cells, True
                self.title, known = entry.title, entry.known
        return known if known is not None and known.usable else None

    def forget(self) -> None:
        """Our own structure write (tags, columns, notes, formats, rows deleted): read it afresh."""
        self.memory.forget()

    def _read_known(self, known: Known, summary: bool) -> TabRead | None:
        """1 call: the values where the kept tags say; None when row 1 is not as it was.

        Google moves a column's tags with the column, so a column inserted,
        deleted or moved shows in row 1 (it shifts); a header edited shows
        there too. A row 1 exactly as it stood when the metadata was read
        (same cells, same width) keeps that metadata; anything else, a tab
        the read is refused for, or a header that no longer checks, is read
        again from the metadata (and any problem said as a fresh read says it).
        """
        try:
            values = self._read_queue_and_orders(known.tab, with_summary=summary, strict=True)
        except Refused:
            return None
        if not known.same_header(values[0] if values else []):
            return None
        try:
            if known.tab.tagged:
                layout = check_tagged(values, known.tab, self.names)
            else:
                layout = check_untagged(values, self.names, known.tab.title)
        except HeaderProblem:
            return None
        self.cached = True
        return TabRead(values, known.tab, layout, merged_rows(known.tab.merges, layout))

    def _read_fresh(self, summary: bool) -> TabRead:
        """Metadata, then values (2 calls); the header checked (or raise); the metadata kept."""
        self.memory.clear()
        self.cached = False
        if self.cells is None or self._cells_kept:
            answer = self.api.metadata(f"{LOCALE_FIELDS},{METADATA_FIELDS}")
            self.cells, self._cells_kept = SheetCells.from_properties(answer), False
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
        self.memory.read_afresh(tab, answer, values[0] if values else [], self.cells)
        return TabRead(values, tab, layout, merged_rows(tab.merges, layout))

    def confirm(self) -> bool:
        """Before a write: True when the metadata the last read was checked with still holds.

        A read that kept the last metadata costs 1 call here (``spreadsheets.get``)
        and must find the queue's tab with the very tags, merged cells and alert it
        was checked with; a fresh read needs none. False (the kept metadata is
        dropped) means nothing may be written on that read: the next one reads afresh.
        """
        if not self.cached:
            return True
        self.cached = False
        known = self.memory.take()
        answer = self.api.metadata(METADATA_FIELDS)
        self.summary.found(answer)
        return self.memory.confirm(known, answer, self.cells)

    def queue_read(
        self, values: Sequence[list[Any]], layout: Layout, merged: dict[int, str]
    ) -> QueueRead:
        """The queue's rows (those holding a request) out of the tab's cells, kept as read.

        Each row is decoded once (:func:`~sheetqueue.sheets.queue_rows.scan_rows`
        takes out the cells of the fields every row is looked at for, made text
        here) and stays encoded until its request is asked for. A cell is made text
        (dates the sheet's way) only when it is read, so the columns a pass
        does not look at are never converted.
        """
        kept, cells = scan_rows(values, layout, merged)
        reader, dates = self._reader(layout)
        positions = [index + 1 for index in kept]
        columns = dict(layout.columns)
        texts = {
            name: column_texts(raw, positions, columns[name], reader, dates)
            for name, raw in cells.items()
        }
        return QueueRead(picked(values, kept), positions, columns, reader, dates, texts=texts)

    def _reader(self, layout: Layout) -> tuple[CellReader, frozenset[int]]:
        """How a queue cell becomes text, and the date columns that reads the sheet's way."""
        dates = frozenset(layout.columns[n] for n in QUEUE_DATE_FIELDS if n in layout.columns)
        date_cell = self.sheet_cells().date_cell
        tab = self.requests_tab

        def read(number: int, index: int, value: Any) -> str:
            if index in dates:
                return date_cell(value, f"{tab}!{column_letters(index)}{number}")
            return value if type(value) is str else cell_value(value)

        return read, dates

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
        self.forget()
        try:
            self.api.structure(alert_requests(tab, column, text))
        except StoreError as exc:  # the alert is a courtesy: the stop itself stands
            log.warning("sheet.alert_not_posted", tab=tab.title, error=str(exc))

    def _read_queue_and_orders(
        self, tab: TabTags | None = None, *, with_summary: bool = False, strict: bool = False
    ) -> Sequence[list[Any]]:
        """The queue's columns, the Orders tab and (a worker pass) the Summary tab: 1 call.

        ``strict``: a refused read raises (the ranges came from kept metadata).
        """
        self._orders_read = None  # an answer read before is let go before this one comes
        queue = quote_tab(self.requests_tab)
        ranges = _queue_ranges(queue, tab)
        self.bounded = len(ranges) > 1
        summary = self.summary.read_ranges() if with_summary else []  # same call, if the tab is
        if self._orders_with_queue:
            try:
                # The queue's and the Orders tab's rows stay encoded: a pass decodes
                # each queue row once and the few orders it needs.
                blocks = self.api.batch_get_encoded(
                    [*ranges, quote_tab(self.tabs.orders_tab), *summary],
                    unformatted=True,
                    encoded=range(len(ranges) + 1),
                )
            except Refused:  # no Orders tab yet: read the queue alone until one is written
                if strict:
                    raise
                self._orders_with_queue = False
            else:
                orders = blocks.pop(len(ranges))
                self._orders_read = (self._clock(), orders)
                return self._split_summary(blocks, len(ranges), with_summary)
        if summary or self.bounded:
            blocks = self.api.batch_get_encoded(
                [*ranges, *summary], unformatted=True, encoded=range(len(ranges))
            )
            return self._split_summary(blocks, len(ranges), with_summary)
        if with_summary:
            self.summary.read([])  # no tab (or none kept): nothing is known to be there
        return self.api.get(queue, unformatted=True)

    def _split_summary(
        self, blocks: list[Sequence[list[Any]]], queue_blocks: int, with_summary: bool
    ) -> Sequence[list[Any]]:
        """The queue's rows from its (encoded) blocks; the Summary tab's block (if read) as text."""
        if with_summary:
            seen = blocks[queue_blocks:]  # decoded: only the queue's blocks were kept encoded
            self.summary.read([[[cell_text(c) for c in row] for row in b] for b in seen])
        return _joined(cast(list[EncodedRows], blocks[:queue_blocks]))

    # -- cells as text ----------------------------------------------------------

    def sheet_cells(self) -> SheetCells:
        """The spreadsheet's locale and time zone (1 call, once, when no queue read had them)."""
        if self.cells is None:
            self.cells = SheetCells.from_properties(self.api.metadata(LOCALE_FIELDS))
        return self.cells

    def texts(self, values: Sequence[list[Any]], layout: Layout) -> list[list[Any]]:
        """The queue's cells as text, once, where they enter (dates the sheet's way)."""
        dates = [layout.columns[name] for name in QUEUE_DATE_FIELDS if name in layout.columns]
        return list(self.sheet_cells().rows(values, dates, self.requests_tab))

    # -- the Orders tab ---------------------------------------------------------

    def read_orders(self) -> list[dict[str, Any]]:
        """The orders, read with the queue when they were (and still fresh), else 1 call."""
        return orders_from_values(self._order_texts(self._order_values()))

    def order_table(self) -> OrderTable:
        """The Orders tab as a table (read with the queue when it was, else 1 call).

        Its cells stay as read; a row is made text (dates the sheet's way) when
        an order is built from it.
        """
        values = self._order_values()
        cells, dates, tab = self.sheet_cells(), self._order_dates(values), self.tabs.orders_tab

        def texts(index: int, row: Sequence[Any]) -> list[str]:
            return cells.row(row, dates, index + 2, tab)

        return OrderTable(values[0] if values else [], values[1:], texts)

    def orders_replaced(self) -> None:
        """The Orders tab was written: drop the copy read with the queue, read it along again."""
        self._orders_read = None
        self._orders_with_queue = self._orders_configured

    def _order_values(self) -> Sequence[Sequence[Any]]:
        read, self._orders_read = self._orders_read, None
        if read is not None and self._clock() - read[0] <= PREFETCH_SECONDS:
            return read[1]
        return self.tabs.read_order_values(unformatted=True)

    def _order_texts(self, values: Sequence[Sequence[Any]]) -> list[list[Any]]:
        """The Orders tab's cells as text, once; the mapping's date columns read the sheet's way."""
        return list(
            self.sheet_cells().rows(values, self._order_dates(values), self.tabs.orders_tab)
        )

    def _order_dates(self, values: Sequence[Sequence[Any]]) -> frozenset[int]:
        """The Orders tab's date columns: where the mapping's date field names head one."""
        header = [str(cell) for cell in values[0]] if values else []
        return frozenset(i for i, name in enumerate(header) if key_of(name) in self._date_keys)


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


def _joined(blocks: Sequence[EncodedRows]) -> EncodedRows:
    """Row 1 and the rows below it (read as two ranges) as one table, as a whole-tab read gives."""
    if len(blocks) == 1:
        return blocks[0]
    header, body = blocks
    if not body:
        return header
    return EncodedRows.joined(header, body)


def last_row(values: Sequence[Sequence[Any]]) -> int:
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


def table_end(values: Sequence[Sequence[Any]]) -> int:
    """The row after the table that holds :func:`last_row` (where an append lands)."""
    end = last_row(values)
    while end < len(values) and any(str(cell).strip() for cell in values[end]):
        end += 1
    return end + 1
