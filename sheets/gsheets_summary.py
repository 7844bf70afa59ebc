"""The ``Summary`` tab on the Google Sheet: read with the queue, written with the pass's cells.

The tab's block is ``A1:E60`` (:data:`~sheetqueue.sheets.store.SUMMARY_ROWS` x
:data:`~sheetqueue.sheets.store.SUMMARY_COLUMNS`). The pass's metadata read
already lists the tabs, so whether the tab exists costs nothing; when it does,
its cells come in the same ``values.batchGet`` as the queue. A table handed
over with :meth:`SummaryTab.put` rides in the next ``values.batchUpdate`` of
row cells, or is written alone by :meth:`SummaryTab.flush` when no row write
carries it. Everything is written RAW (text stays text, ``=`` included) and
padded with blanks, so a shorter table leaves nothing of a longer one behind.
A missing tab is created (one call, once); a tab too small is grown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import structlog

from sheetqueue.config.errors import StoreError
from sheetqueue.sheets.gsheets_api import Refused, SheetsApi
from sheetqueue.sheets.gsheets_layout import column_letters, quote_tab
from sheetqueue.sheets.gsheets_tabs import Tabs
from sheetqueue.sheets.store import SUMMARY_COLUMNS, SUMMARY_ROWS

__all__ = ["SummaryTab"]

log = structlog.get_logger("sheetqueue.gsheets")


class SummaryTab:
    """The Summary tab of one spreadsheet (``title`` blank: kept nowhere)."""

    def __init__(self, api: SheetsApi, tabs: Tabs, title: str) -> None:
        self.api = api
        self.tabs = tabs
        self.title = title.strip()
        self.seen: list[list[Any]] | None = None  # the block as read with the queue
        self._known = False  # the spreadsheet's tabs were listed at least once
        self._grid: tuple[int, int] | None = None  # rows, columns; None: no such tab
        self._pending: list[list[str]] | None = None
        self.guard: Callable[[], bool] = lambda: True  # False: the sheet changed, write nothing

    def found(self, answer: Mapping[str, Any]) -> None:
        """Note from a ``spreadsheets.get`` answer whether the tab exists, and its size."""
        if not self.title:
            return
        self._known, self._grid = True, None
        for sheet in answer.get("sheets", []):
            props = sheet.get("properties", {})
            if str(props.get("title", "")).lower() == self.title.lower():
                grid = props.get("gridProperties", {})
                self._grid = (int(grid.get("rowCount", 0)), int(grid.get("columnCount", 0)))
                return

    def read_ranges(self) -> list[str]:
        """The range to read with the queue: the whole tab when it exists, else none."""
        return [quote_tab(self.title)] if self.title and self._grid is not None else []

    def read(self, blocks: Sequence[list[list[Any]]]) -> None:
        """Keep what the queue's batchGet answered for the tab (its block only); none: None."""
        self.seen = None
        if blocks:
            self.seen = [list(row[:SUMMARY_COLUMNS]) for row in blocks[0][:SUMMARY_ROWS]]

    def put(self, table: Sequence[Sequence[str]]) -> bool:
        """Stage ``table`` for the next write; False when no Summary tab is kept."""
        if not self.title:
            return False
        self._pending = [[str(cell) for cell in row] for row in table]
        return True

    def ranges(self) -> list[dict[str, Any]]:
        """The ValueRange writing the staged table (the tab made ready first), or none."""
        if self._pending is None:
            return []
        try:
            self._make_room()
        except StoreError as exc:  # the picture is a courtesy: the row writes go on
            log.warning("sheet.summary_not_written", tab=self.title, error=str(exc))
            self._pending = None
            return []
        rows = [[*row, *([""] * (SUMMARY_COLUMNS - len(row)))] for row in self._pending]
        rows += [[""] * SUMMARY_COLUMNS for _ in range(SUMMARY_ROWS - len(rows))]
        last = column_letters(SUMMARY_COLUMNS - 1)
        return [
            {
                "range": f"{quote_tab(self.title)}!A1:{last}{SUMMARY_ROWS}",
                "majorDimension": "ROWS",
                "values": rows,
            }
        ]

    def written(self, ranges: Sequence[Mapping[str, Any]]) -> None:
        """The write carrying ``ranges`` landed: that table is what the tab holds now."""
        if ranges and self._pending is not None:
            self.seen, self._pending = self._pending, None

    def flush(self) -> None:
        """Write the staged table alone (one call), when no row write carried it.

        ``guard`` is asked first (the store's check that the read still holds);
        when it says no, the table is dropped: the next pass stages it again.
        """
        if self._pending is None:
            return
        if not self.guard():
            self._pending = None
            return
        ranges = self.ranges()
        if ranges:
            self.api.batch_write(ranges, retry=True)
            self.written(ranges)

    def _make_room(self) -> None:
        if not self._known:
            props = self.tabs.properties(self.title)
            self._known = True
            if props is not None:
                grid = props.get("gridProperties", {})
                self._grid = (int(grid.get("rowCount", 0)), int(grid.get("columnCount", 0)))
        if self._grid is None:
            try:
                self.tabs.add_tab(self.title)
            except Refused:  # made meanwhile (another worker, a person): use it
                self.tabs.ensure_size(self.title, SUMMARY_ROWS, SUMMARY_COLUMNS)
            else:
                log.info("sheet.summary_tab_created", tab=self.title)
            self._grid = (max(SUMMARY_ROWS, 1000), max(SUMMARY_COLUMNS, 26))
        elif self._grid[0] < SUMMARY_ROWS or self._grid[1] < SUMMARY_COLUMNS:
            self.tabs.ensure_size(self.title, SUMMARY_ROWS, SUMMARY_COLUMNS)
            self._grid = (max(self._grid[0], SUMMARY_ROWS), max(self._grid[1], SUMMARY_COLUMNS))
