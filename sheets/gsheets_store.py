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
  the writes themselves are :mod:`sheetqueue.sheets.gsheets_writes`;
- ``add_requests``: 2 (a read for the duplicate check, one ``values.append``);
  an append whose answer is lost is not tried again here (it may still land):
  it raises ``LandingUnknown`` for the outbox to wait out and look up (see
  :mod:`sheetqueue.sheets.gsheets_append`);
- ``append_log``: 2; ``read_log`` and ``read_orders``: 1.

Writes go RAW, so shopper text is never a formula or a number. A write whose
answer is lost (timeout, 5xx) is checked before it is tried again: the log
lines it carried, or the cells it set, show whether it landed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import structlog

from sheetqueue.config.errors import ConfigError
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.gsheets_api import SheetsApi, open_client
from sheetqueue.sheets.gsheets_append import add_new
from sheetqueue.sheets.gsheets_header import TabTags, tag_requests
from sheetqueue.sheets.gsheets_layout import Layout, column_letters, quote_tab
from sheetqueue.sheets.gsheets_read import PREFETCH_SECONDS, SheetReader
from sheetqueue.sheets.gsheets_retry import Backoff
from sheetqueue.sheets.gsheets_summary import SummaryTab
from sheetqueue.sheets.gsheets_tabs import Tabs
from sheetqueue.sheets.gsheets_writes import CellWriter
from sheetqueue.sheets.kept_entries import KeptEntries
from sheetqueue.sheets.model import LogEntry, Request, header_names
from sheetqueue.sheets.order_mapping import OrderMapping, mapping_of
from sheetqueue.sheets.order_table import OrderTable
from sheetqueue.sheets.sheet_cells import SheetCells
from sheetqueue.sheets.store import AddResult, CellUpdate, QueueRead, StoredRequest, UpdateResult

__all__ = ["GsheetsStore"]

log = structlog.get_logger("sheetqueue.gsheets")


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
        self._prefetched: tuple[float, Sequence[list[Any]]] | None = None
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
        self.writer = CellWriter(
            api,
            self.tabs,
            self.summary,
            log_tab=log_tab,
            cells=self.reader.sheet_cells,
            on_header_moved=self._header_moved,
        )

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

    def _read_tab(self, *, summary: bool = False, fresh: bool = False) -> Sequence[list[Any]]:
        """Values (as the API returned them), the metadata kept or read first; checked (or raise).

        ``summary``: read the Summary tab in the same call (a worker pass);
        ``fresh``: read the metadata first (see :meth:`SheetReader.read_tab`).
        """
        self._prefetched = None
        self._layout = None
        read = self.reader.read_tab(summary=summary, fresh=fresh)
        self.tab, self._layout = read.tab, read.layout
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

    def _take_prefetched(self) -> Sequence[list[Any]] | None:
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
        return self._adopt(values)

    def _to_adopt(self) -> bool:
        """Whether :meth:`_adopt` has columns to add or tags to write."""
        assert self._layout is not None and self.tab is not None  # set by _read_tab
        return bool(self._layout.missing or tag_requests(self.tab.sheet_id, self._layout, self.tab))

    def _adopt(self, values: Sequence[list[Any]]) -> list[str]:
        """Add the missing columns right of the header and tag every known one (first sight).

        ``values``: the read the layout came from (how wide its rows run).
        """
        assert self._layout is not None and self.tab is not None  # set by _read_tab
        missing = self._layout.missing
        if missing:
            self._prefetched = None
            self.reader.forget()  # row 1 and the grid change: the next read reads the metadata
            self._add_columns(self._layout, missing, values)
        tags = tag_requests(self.tab.sheet_id, self._layout, self.tab)
        if tags:
            self.reader.forget()
            self.api.structure(tags)
            log.info("sheet.columns_tagged", tab=self.requests_tab, count=len(tags))
        return missing

    def _add_columns(
        self, layout: Layout, missing: Sequence[str], values: Sequence[list[Any]]
    ) -> None:
        """Write ``missing`` headers right of every used column (never moving one)."""
        if self.reader.bounded:  # the read stopped at the worker's last column: look past it once
            values = self.api.get(quote_tab(self.requests_tab))
        start = max(layout.width, max(map(len, values), default=0))
        self.tabs.ensure_columns(self.requests_tab, start + len(missing))
        first, last = column_letters(start), column_letters(start + len(missing) - 1)
        self.api.update(f"{quote_tab(self.requests_tab)}!{first}1:{last}1", [list(missing)])
        padded = [*layout.header, *([""] * (start - layout.width)), *missing]
        self._layout = Layout.from_header(padded, self.names)
        log.info("sheet.columns_added", tab=self.requests_tab, columns=list(missing))

    # -- adding ---------------------------------------------------------------

    def add_requests(self, requests: Sequence[Request]) -> AddResult:
        self._prefetched = None
        if not requests:
            return AddResult([], [])
        sent: set[str] = set()
        return self.api.backoff.run(lambda: self._add_once(requests, sent), self.api.count_retry)

    def _add_once(self, requests: Sequence[Request], sent: set[str]) -> AddResult:
        """The queue read with the metadata as it is now (adopted first if need be), then added."""
        values = self._read_tab(fresh=True)  # an append follows: the metadata as it is now
        assert self._layout is not None
        layout = self._layout
        if layout.missing or not (self.tab is not None and self.tab.tagged):
            self._adopt(values)
            values = self._read_tab()
            assert self._layout is not None
            layout = self._layout
        texts = self.reader.texts(values, layout)
        return add_new(self.api, self.requests_tab, layout, texts, requests, sent)

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
        return self.writer.write(self.requests_tab, layout, self.merged, updates, log)

    def _header_moved(self) -> None:
        """A pre-write check found row 1 changed: the next write reads the header afresh."""
        self._layout = None

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

    def keep_metadata(self, kept: KeptEntries) -> None:
        """Keep the queue tab's metadata in ``kept`` too, for the next process (a cron tick)."""
        self.reader.kept = kept

    def close(self) -> None:
        self.api.close()
        if self.reader.kept is not None:
            self.reader.kept.close()
