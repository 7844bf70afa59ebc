"""The tabs around the queue: the audit ``Log``, the ``Orders`` tab, and grid sizes.

These calls are rare (a tab created once, orders imported now and then), so
they may read the spreadsheet's metadata first; the queue's own pass never
needs them in steady state.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sheetqueue.config.errors import StoreError
from sheetqueue.sheets.gsheets_api import Refused, SheetsApi
from sheetqueue.sheets.gsheets_layout import cell_text, column_letters, quote_tab
from sheetqueue.sheets.model import LOG_HEADER, LogEntry
from sheetqueue.sheets.order_table import OrderTable

__all__ = ["Tabs", "order_cell", "orders_from_values"]

_NEW_TAB_ROWS = 1000
_NEW_TAB_COLUMNS = 26
_NEW_LOG_ROWS = 20_000  # room for a first pass over 10,000 rows without growing (120k cells)


class Tabs:
    """Grid sizes, the Log tab and the Orders tab of one spreadsheet."""

    def __init__(self, api: SheetsApi, *, log_tab: str, orders_tab: str) -> None:
        self.api = api
        self.log_tab = log_tab
        self.orders_tab = orders_tab

    # -- grid -----------------------------------------------------------------

    def properties(self, title: str) -> dict[str, Any] | None:
        """The ``SheetProperties`` of the tab named ``title`` (1 call), or None."""
        sheets = self.api.metadata().get("sheets", [])
        found = [s.get("properties", {}) for s in sheets]
        exact = [p for p in found if p.get("title") == title]
        loose = [p for p in found if str(p.get("title", "")).lower() == title.lower()]
        chosen = (exact or loose or [None])[0]
        return dict(chosen) if chosen is not None else None

    def add_tab(
        self, title: str, rows: int = _NEW_TAB_ROWS, columns: int = _NEW_TAB_COLUMNS
    ) -> int:
        """Create a tab; returns its sheetId."""
        grid = {"rowCount": rows, "columnCount": columns}
        answer = self.api.structure(
            [{"addSheet": {"properties": {"title": title, "gridProperties": grid}}}]
        )
        return int(answer["replies"][0]["addSheet"]["properties"]["sheetId"])

    def ensure_size(self, title: str, rows: int = 0, columns: int = 0) -> None:
        """Grow the tab's grid to at least ``rows`` x ``columns`` (it must exist)."""
        props = self.properties(title)
        if props is None:
            raise StoreError(f"no tab {title!r} in the spreadsheet: run 'sheetqueue init-sheet'")
        grid = props.get("gridProperties", {})
        grow = []
        for dimension, want, have in (
            ("ROWS", rows, int(grid.get("rowCount", 0))),
            ("COLUMNS", columns, int(grid.get("columnCount", 0))),
        ):
            if want > have:
                grow.append(
                    {
                        "appendDimension": {
                            "sheetId": props["sheetId"],
                            "dimension": dimension,
                            "length": want - have,
                        }
                    }
                )
        if grow:
            self.api.structure(grow)

    def ensure_columns(self, title: str, columns: int) -> None:
        """At least ``columns`` columns in the tab's grid."""
        self.ensure_size(title, columns=columns)

    # -- the audit log ----------------------------------------------------------

    def ensure_log(self) -> bool:
        """Create the Log tab with its header when it is missing; True if created."""
        if self.properties(self.log_tab) is not None:
            return False
        self.add_tab(self.log_tab, rows=_NEW_LOG_ROWS, columns=len(LOG_HEADER))
        self.api.update(f"{quote_tab(self.log_tab)}!A1:F1", [list(LOG_HEADER)])
        return True

    def grow_log(self, rows: int) -> None:
        """Room for ``rows`` rows in the Log tab, and as many again (growth is rare)."""
        self.ensure_size(self.log_tab, rows=max(rows * 2, rows + _NEW_TAB_ROWS))

    def read_log(self) -> list[LogEntry]:
        """The audit log, oldest first (1 call); empty when there is no Log tab."""
        values = self._values_or_none(self.log_tab) or []
        entries = []
        for row in values:
            cells = [cell_text(cell) for cell in row] + [""] * len(LOG_HEADER)
            if not any(cell.strip() for cell in cells) or cells[:2] == list(LOG_HEADER[:2]):
                continue
            time_, request_id, from_status, to_status, by, note = cells[: len(LOG_HEADER)]
            entries.append(
                LogEntry(
                    time=time_,
                    request_id=request_id,
                    from_status=from_status,
                    to_status=to_status,
                    by=by,
                    note=note,
                )
            )
        return entries

    # -- orders -----------------------------------------------------------------

    def read_orders(self) -> list[dict[str, Any]]:
        """The Orders tab as records keyed by header, every cell as text (1 call)."""
        return orders_from_values(self.read_order_values())

    def read_order_values(self, *, unformatted: bool = False) -> list[list[Any]]:
        """The Orders tab's cells, header first (1 call; none when there is no tab)."""
        return self._values_or_none(self.orders_tab, unformatted=unformatted) or []

    def replace_orders(self, records: Sequence[Mapping[str, Any]]) -> int:
        """Replace the Orders tab with ``records`` (RAW; JSON text for lists and objects).

        One ``values.update`` writes the new orders and blanks what is left of
        the old ones, so an import lands whole or not at all (no clear first).
        """
        columns: list[str] = []
        for record in records:
            columns += [str(key) for key in record if str(key) not in columns]
        rows = [columns] + [
            [order_cell(record.get(name)) for name in columns] for record in records
        ]
        if self.properties(self.orders_tab) is None:
            old: list[list[Any]] = []
            self.add_tab(
                self.orders_tab,
                max(_NEW_TAB_ROWS, len(rows)),
                max(_NEW_TAB_COLUMNS, len(columns), 1),
            )
        else:
            old = self.api.get(quote_tab(self.orders_tab))
            self.ensure_size(self.orders_tab, rows=len(rows), columns=max(len(columns), 1))
        height = max(len(rows), len(old))
        width = max(len(columns), max((len(row) for row in old), default=0), 1)
        grid = [[*row, *([""] * (width - len(row)))] for row in rows]
        grid += [[""] * width for _ in range(height - len(rows))]
        if grid:
            last = column_letters(width - 1)
            self.api.update(f"{quote_tab(self.orders_tab)}!A1:{last}{height}", grid)
        return len(records)

    def _values_or_none(self, title: str, *, unformatted: bool = False) -> list[list[Any]] | None:
        try:
            return self.api.get(quote_tab(title), unformatted=unformatted)
        except Refused:
            if self.properties(title) is None:
                return None
            raise


def orders_from_values(values: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """Records keyed by the Orders tab's header; blank rows skipped."""
    if not values:
        return []
    table = OrderTable(values[0], values[1:])
    return [record for index in range(len(table.rows)) if (record := table.record(index))]


def order_cell(value: Any) -> str:
    """One order field as the text of a cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)
