"""Archive tabs in the queue's spreadsheet: ``Archive 2026`` beside ``Requests``.

An archive tab holds the canonical columns, then ``Archived At`` and ``Other
Columns`` (the team's own cells of the row, as JSON). It is marked with the
developer metadata ``sheetqueue:archive`` and never carries the queue's
column tags, so the header contract never takes it for the queue.

The live rows are deleted by Request ID: a fresh read finds the row numbers
just before one ``deleteDimension`` batch (all or nothing), and a read after it
checks what went. A row the team moved into a deleted position in between (a
sort in that instant) is found missing by its ID and appended back from the
read taken before.

With another spreadsheet for the archive (``SHEETQUEUE_ARCHIVE_SPREADSHEET_ID``)
the archive tabs are that spreadsheet's, reached with the same credentials;
the live rows and the audit log stay in the queue's spreadsheet.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import structlog

from sheetqueue.config.errors import StoreError
from sheetqueue.sheets.archive_shelf import ARCHIVE_EXTRA_HEADER, ArchivedRow
from sheetqueue.sheets.gsheets_api import SheetsApi
from sheetqueue.sheets.gsheets_header import ARCHIVE_KEY
from sheetqueue.sheets.gsheets_layout import Layout, cell_text, column_letters, quote_tab, runs
from sheetqueue.sheets.gsheets_retry import Transient
from sheetqueue.sheets.gsheets_store import GsheetsStore
from sheetqueue.sheets.gsheets_tabs import Tabs
from sheetqueue.sheets.model import CANONICAL_HEADER, HEADER_BY_FIELD, Request, header_key

__all__ = ["ARCHIVE_HEADER", "GsheetsShelf"]

log = structlog.get_logger("sheetqueue.archive")

ARCHIVE_HEADER = (*CANONICAL_HEADER, *ARCHIVE_EXTRA_HEADER)
_FIELDS = tuple(HEADER_BY_FIELD)
_FIELD_OF = {header_key(header): name for name, header in HEADER_BY_FIELD.items()}
_DELETE_TRIES = 3


class GsheetsShelf:
    """Archiving on a :class:`GsheetsStore`'s spreadsheet, or into another one (``archive``)."""

    def __init__(self, store: GsheetsStore, archive: SheetsApi | None = None) -> None:
        self.store = store
        self.api = store.api
        self._own = archive  # the other spreadsheet's calls: this shelf closes them
        self.archive_api = archive or store.api
        self.archive_tabs = store.tabs
        if archive is not None:
            self.archive_tabs = Tabs(archive, log_tab=store.log_tab, orders_tab="")
        self.target = archive.spreadsheet_id if archive is not None else ""
        self._queue = quote_tab(store.requests_tab)
        self._positions: dict[str, dict[str, int]] = {}
        self._headed: dict[str, bool] = {}

    # -- the live queue ---------------------------------------------------------

    def live_rows(self) -> list[ArchivedRow]:
        self.store.ensure_header()  # the header contract: raises HeaderProblem on a broken one
        values, layout = self._read_live()
        return [row for _n, row, _raw in self._rows(values, layout)]

    def _read_live(self) -> tuple[list[list[Any]], Layout]:
        layout = self.store.layout
        if layout is None:
            self.store.ensure_header()
            layout = self.store.layout
        assert layout is not None
        values = self.api.get(self._queue)
        if not layout.holds_header(values[0] if values else []):
            raise StoreError(
                f"the header of {self.store.requests_tab!r} changed during the archive run; "
                "nothing more was deleted: run it again"
            )
        return values, layout

    def _rows(
        self, values: Sequence[Sequence[Any]], layout: Layout
    ) -> list[tuple[int, ArchivedRow, Sequence[Any]]]:
        found = []
        known = set(layout.columns.values())
        for number, raw in enumerate(values[1:], start=2):
            if number in self.store.merged:
                continue
            request = layout.request_of(raw)
            if request is None:
                continue
            other = tuple(
                (_team_header(layout, index), cell_text(cell))
                for index, cell in enumerate(raw)
                if index not in known and cell_text(cell).strip()
            )
            found.append((number, ArchivedRow(request, other), raw))
        return found

    def delete(self, rows: Sequence[ArchivedRow]) -> list[str]:
        wanted = {row.request_id: row for row in rows}
        deleted: list[str] = []
        for _ in range(_DELETE_TRIES):
            values, layout = self._read_live()
            listed = self._rows(values, layout)
            before = {row.request_id: raw for _n, row, raw in listed if row.request_id}
            targets = {
                number: row.request_id
                for number, row, _raw in listed
                if row.request_id in wanted
                and row.request_id not in deleted
                and row == wanted[row.request_id]
            }
            if not targets:
                break
            self._delete_rows(sorted(targets))
            after, _ = self._read_live()
            column = layout.columns["request_id"]
            still = {cell_text(r[column]).strip() for r in after[1:] if _has(r, layout)}
            gone = [rid for rid in targets.values() if rid not in still]
            deleted += gone
            lost = [raw for rid, raw in before.items() if rid not in still and rid not in wanted]
            if lost:
                self._restore(lost)
            if len(gone) == len(targets):
                break
        return deleted

    def _delete_rows(self, numbers: Sequence[int]) -> None:
        if not self.store.reader.confirm():  # the read's kept metadata no longer holds
            raise StoreError(
                f"the columns or merged cells of {self.store.requests_tab!r} changed during the "
                "archive run; nothing more was deleted: run it again"
            )
        tab = self.store.tab
        assert tab is not None
        requests = [
            {
                "deleteDimension": {
                    "range": {
                        "sheetId": tab.sheet_id,
                        "dimension": "ROWS",
                        "startIndex": first - 1,
                        "endIndex": last,
                    }
                }
            }
            for first, last in reversed(runs(numbers))
        ]
        self.store.reader.forget()  # rows go: merged ranges below them move up
        try:
            self.api.structure(requests)
        except Transient as exc:
            if not exc.maybe_applied:
                raise
            log.warning("archive.delete_unanswered", error=str(exc))  # the read after tells

    def _restore(self, lost: Sequence[Sequence[Any]]) -> None:
        rows = [[cell_text(cell) for cell in raw] for raw in lost]
        self.api.append(f"{self._queue}!A1", rows)
        log.error(
            "archive.rows_restored",
            count=len(rows),
            reason="rows moved under a delete (the sheet was sorted meanwhile); appended back",
        )

    # -- the archive tabs -----------------------------------------------------

    def archived(self, tab: str) -> dict[str, ArchivedRow]:
        if self.archive_tabs.properties(tab) is None:
            self._positions[tab] = {}
            self._headed[tab] = False
            return {}
        values = self.archive_api.get(quote_tab(tab))
        header = [header_key(cell_text(cell)) for cell in (values[0] if values else [])]
        self._headed[tab] = bool(values) and any(header)
        found: dict[str, ArchivedRow] = {}
        positions: dict[str, int] = {}
        for number, raw in enumerate(values[1:], start=2):
            cells = {key: cell_text(raw[i]) for i, key in enumerate(header) if i < len(raw)}
            request = Request(**{_FIELD_OF[k]: v for k, v in cells.items() if k in _FIELD_OF})
            request_id = request.request_id.strip()
            if not request_id or request_id in found:
                continue
            other_text = cells.get(header_key(ARCHIVE_EXTRA_HEADER[1]), "")
            other = tuple(json.loads(other_text).items()) if other_text.strip() else ()
            found[request_id] = ArchivedRow(request, tuple((str(k), str(v)) for k, v in other))
            positions[request_id] = number
        self._positions[tab] = positions
        return found

    def copy(self, tab: str, rows: Sequence[ArchivedRow], archived_at: str) -> None:
        if tab not in self._headed:
            self.archived(tab)
        if self.archive_tabs.properties(tab) is None:
            sheet_id = self.archive_tabs.add_tab(
                tab, rows=max(1000, len(rows) + 1), columns=len(ARCHIVE_HEADER)
            )
            self.archive_api.structure([_archive_mark(sheet_id)])
            self._headed[tab] = False
        if not self._headed.get(tab):
            last = column_letters(len(ARCHIVE_HEADER) - 1)
            self.archive_api.update(f"{quote_tab(tab)}!A1:{last}1", [list(ARCHIVE_HEADER)])
            self._headed[tab] = True
        try:
            self.archive_api.append(
                f"{quote_tab(tab)}!A1", [_cells(row, archived_at) for row in rows]
            )
        except Transient as exc:
            if exc.maybe_applied:
                raise StoreError(
                    f"the copy to {tab!r} was sent but not answered and may still land; "
                    "nothing was deleted: run the archive again in a few minutes"
                ) from exc
            raise

    def rewrite(self, tab: str, rows: Sequence[ArchivedRow]) -> None:
        positions = self._positions.get(tab) or {}
        last = column_letters(len(CANONICAL_HEADER) - 1)
        data = []
        for row in rows:
            number = positions.get(row.request_id)
            if number is None:
                continue
            cells = _cells(row, "")
            where = column_letters(len(ARCHIVE_HEADER) - 1)
            data += [
                {"range": f"{quote_tab(tab)}!A{number}:{last}{number}", "values": [cells[:-2]]},
                {"range": f"{quote_tab(tab)}!{where}{number}", "values": [[cells[-1]]]},
            ]
        if data:
            self.archive_api.batch_write(data, retry=True)

    def close(self) -> None:
        """The store is the caller's to close; the other spreadsheet's calls are this shelf's."""
        if self._own is not None:
            self._own.close()


def _cells(row: ArchivedRow, archived_at: str) -> list[str]:
    values = row.request.model_dump()
    other = json.dumps(dict(row.other), ensure_ascii=False) if row.other else ""
    return [*(values[name] for name in _FIELDS), archived_at, other]


def _team_header(layout: Layout, index: int) -> str:
    text = layout.header[index].strip() if index < len(layout.header) else ""
    return text or f"column {column_letters(index)}"


def _has(raw: Sequence[Any], layout: Layout) -> bool:
    index = layout.columns.get("request_id")
    return index is not None and index < len(raw) and bool(cell_text(raw[index]).strip())


def _archive_mark(sheet_id: int) -> dict[str, Any]:
    return {
        "createDeveloperMetadata": {
            "developerMetadata": {
                "metadataKey": ARCHIVE_KEY,
                "metadataValue": "archive",
                "location": {"sheetId": sheet_id},
                "visibility": "DOCUMENT",
            }
        }
    }
