"""The emulator without HTTP: state, faults, quotas and the call log, and the API dispatch.

:class:`SheetsService` answers ``(method, path, query, body)`` with
``(status, json)``; the HTTP app is a thin shell around it. Its public
methods are also the in-process test API (create spreadsheets, read cells,
hand edits, faults, quotas, log).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sheetqueue.sheets.testing.emulator import batch, edits, metadata, values
from sheetqueue.sheets.testing.emulator.auth import Auth
from sheetqueue.sheets.testing.emulator.cells import Cell
from sheetqueue.sheets.testing.emulator.errors import ApiError, bad_request, not_found
from sheetqueue.sheets.testing.emulator.faults import (
    Call,
    CallLog,
    Faults,
    Quota,
    fault_error,
    quota_error,
)
from sheetqueue.sheets.testing.emulator.grid import Sheet
from sheetqueue.sheets.testing.emulator.state import Workspace

__all__ = ["SheetsService"]

Query = Mapping[str, str | list[str]]
_PREFIX = "/v4/spreadsheets"


class SheetsService:
    """One emulated Sheets API: every spreadsheet plus the test-side controls."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, seed: int = 0) -> None:
        self.workspace = Workspace(seed)
        self.faults = Faults()
        self.quota = Quota(clock)
        self.log = CallLog()
        self.auth = Auth()  # sign-in checks: off unless a test turns them on
        self.lock = self.workspace.lock

    # -- the API -----------------------------------------------------------

    def handle(self, method: str, path: str, query: Query, body: Any) -> tuple[int, Any]:
        """Answer one API call as Google would, logging it."""
        method = method.upper()
        kind = "read" if method == "GET" else "write"
        with self.lock:
            try:
                code = self.faults.pick()
                if code is not None:
                    raise fault_error(code)
                if not self.quota.admit(kind):
                    raise quota_error(kind)
                columns = self._written_columns(method, path, body)
                status, answer = 200, self._dispatch(method, path, query, body)
            except ApiError as exc:
                status, answer, columns = exc.code, exc.body(), ()
            self.log.record(Call(method, path, kind, status, columns))
        return status, answer

    def _dispatch(self, method: str, path: str, query: Query, body: Any) -> Any:
        if not path.startswith(_PREFIX):
            raise not_found(f"Unknown path {path}")
        rest = path[len(_PREFIX) :].lstrip("/")
        if rest == "" and method == "POST":
            return self._create(body)
        if "/developerMetadata" in rest:
            return self._metadata(method, path, rest, body)
        head, sep, tail = rest.partition("/values")
        book = self.workspace.get(head.removesuffix(":batchUpdate"))
        if not sep:
            if head.endswith(":batchUpdate") and method == "POST":
                snapshot = book.snapshot()
                answer = batch.apply(snapshot, body)
                self.workspace.replace(snapshot)
                return answer
            if method == "GET" and ":" not in head:
                grid = _one(query, "includeGridData", "false").lower() == "true"
                return book.metadata(_one(query, "fields", "") or None, grid)
            raise not_found(f"Unknown path {path}")
        return self._values(book, method, tail, query, body or {})

    def _metadata(self, method: str, path: str, rest: str, body: Any) -> Any:
        head, _sep, tail = rest.partition("/developerMetadata")
        book = self.workspace.get(head)
        if tail == ":search" and method == "POST":
            return metadata.search(book, body)
        if tail.startswith("/") and method == "GET":
            return metadata.get(book, tail[1:])
        raise not_found(f"Unknown path {path}")

    def _written_columns(self, method: str, path: str, body: Any) -> tuple[str, ...]:
        """``Tab!Header`` of each column a values write is about to touch (see :class:`Call`)."""
        if method not in ("POST", "PUT") or "/values" not in path:
            return ()
        head, _sep, tail = path[len(_PREFIX) :].lstrip("/").partition("/values")
        book = self.workspace.books.get(head)
        if book is None:
            return ()
        if tail == ":batchUpdate":
            items = (body or {}).get("data", []) if isinstance(body, dict) else []
            ranges = [str(item.get("range", "")) for item in items if isinstance(item, dict)]
        elif tail.startswith("/") and (method == "PUT" or tail.endswith(":append")):
            ranges = [tail[1:].removesuffix(":append")]
        else:
            return ()
        found: list[str] = []
        for text in ranges:
            try:
                sheet, box = book.resolve(text, check_grid=False)
            except ApiError:
                continue
            width = box.end_col - box.start_col
            if tail.endswith(":append"):
                rows = (body or {}).get("values") or [[]]
                width = max(len(row) for row in rows)
            for col in range(box.start_col, min(box.start_col + width, sheet.col_count)):
                cell = sheet.cell(0, col)
                header = str(cell.value) if cell is not None and cell.value != "" else f"#{col + 1}"
                name = f"{sheet.title}!{header}"
                if name not in found:
                    found.append(name)
        return tuple(found)

    def _values(self, book: Any, method: str, tail: str, query: Query, body: Any) -> Any:
        render_option = _one(query, "valueRenderOption")
        date_option = _one(query, "dateTimeRenderOption")
        major = _one(query, "majorDimension")
        input_option = _one(query, "valueInputOption") or body.get("valueInputOption")
        include = _one(query, "includeValuesInResponse", "").lower() == "true"
        if tail == ":batchGet" and method == "GET":
            return values.batch_get(book, _many(query, "ranges"), render_option, major, date_option)
        if tail == ":batchUpdate" and method == "POST":
            include = include or bool(body.get("includeValuesInResponse"))
            return values.batch_update(book, body.get("data", []), input_option, include)
        if tail == ":batchClear" and method == "POST":
            return values.batch_clear(book, body.get("ranges", []))
        if not tail.startswith("/"):
            raise not_found(f"Unknown values call {tail}")
        rng = tail[1:]
        if method == "POST" and rng.endswith(":append"):
            return values.append(
                book,
                rng.removesuffix(":append"),
                body.get("values"),
                input_option,
                _one(query, "insertDataOption"),
                body.get("majorDimension"),
            )
        if method == "POST" and rng.endswith(":clear"):
            return values.clear(book, rng.removesuffix(":clear"))
        if method == "GET":
            return values.get(book, rng, render_option, major, date_option)
        if method == "PUT":
            return values.update(
                book, rng, body.get("values"), input_option, body.get("majorDimension"), include
            )
        raise not_found(f"Unknown values call {method} {tail}")

    def _create(self, body: Any) -> Any:
        body = body or {}
        title = body.get("properties", {}).get("title", "Untitled spreadsheet")
        tabs = [s.get("properties", {}).get("title") for s in body.get("sheets", [])]
        book = self.workspace.create(title, [t for t in tabs if t] or ["Sheet1"])
        return book.metadata()

    # -- in-process API: data ---------------------------------------------

    def create_spreadsheet(
        self,
        title: str = "Emulated spreadsheet",
        tabs: Sequence[str] | Mapping[str, Sequence[Sequence[Any]]] = ("Sheet1",),
        spreadsheet_id: str | None = None,
        user_entered: bool = False,
        *,
        locale: str = "en_US",
        time_zone: str = "Etc/GMT",
    ) -> str:
        """Create a spreadsheet and return its id; ``tabs`` may map titles to starting rows.

        ``locale`` and ``time_zone`` are the spreadsheet's (File > Settings):
        how typed dates are read and shown, and the zone of its serial numbers.
        The defaults are ``en_US`` and ``Etc/GMT`` (Google picks the creator's own;
        a fixed default keeps a test's serials free of daylight saving time).
        """
        book = self.workspace.create(
            title, tabs, spreadsheet_id, user_entered, locale=locale, time_zone=time_zone
        )
        return book.spreadsheet_id

    def set_locale(self, spreadsheet_id: str, locale: str, time_zone: str | None = None) -> None:
        """Change the spreadsheet's locale (and time zone): later typing reads by them."""
        with self.lock:
            book = self.workspace.get(spreadsheet_id)
            book.locale = locale
            if time_zone is not None:
                book.time_zone = time_zone

    def values(
        self, spreadsheet_id: str, tab: str, render_option: str = "FORMATTED_VALUE"
    ) -> list[list[Any]]:
        """A tab's values as ``values.get`` would give them (not logged)."""
        with self.lock:
            book = self.workspace.get(spreadsheet_id)
            answer = values.get(book, _quoted(tab), render_option)
        return list(answer.get("values", []))

    def cell(self, spreadsheet_id: str, tab: str, a1_cell: str) -> Cell | None:
        """The stored cell (value, formula, display) at ``a1_cell`` of ``tab``."""
        with self.lock:
            sheet, box = self.workspace.get(spreadsheet_id).resolve(f"{_quoted(tab)}!{a1_cell}")
            return sheet.cell(box.start_row, box.start_col)

    def grid_size(self, spreadsheet_id: str, tab: str) -> tuple[int, int]:
        """(rowCount, columnCount) of a tab."""
        with self.lock:
            sheet = self._sheet(spreadsheet_id, tab)
            return sheet.row_count, sheet.col_count

    def sheet(self, spreadsheet_id: str, tab: str) -> Sheet:
        """The tab itself (frozen rows, validations, protections); read it under ``lock``."""
        return self._sheet(spreadsheet_id, tab)

    def _sheet(self, spreadsheet_id: str, tab: str) -> Sheet:
        with self.lock:
            return self.workspace.get(spreadsheet_id).sheet_by_title(tab)

    # -- in-process API: hand edits ---------------------------------------

    def edit_cell(
        self, spreadsheet_id: str, tab: str, row: int, col: int | str, value: Any
    ) -> None:
        """Type ``value`` into (row, col) as a person would (row 1-based; col letter/name/index)."""
        with self.lock:
            locale = self.workspace.get(spreadsheet_id).locale
            edits.set_cell(self._sheet(spreadsheet_id, tab), row, col, value, locale)

    def sort_rows(
        self,
        spreadsheet_id: str,
        tab: str,
        col: int | str,
        descending: bool = False,
        header_rows: int = 1,
    ) -> None:
        """Sort the data rows by one column, keeping the header."""
        with self.lock:
            edits.sort_rows(self._sheet(spreadsheet_id, tab), col, descending, header_rows)

    def insert_blank_rows(
        self, spreadsheet_id: str, tab: str, before_row: int, count: int = 1
    ) -> None:
        """Insert empty rows above ``before_row`` (1-based)."""
        with self.lock:
            edits.insert_blank_rows(self._sheet(spreadsheet_id, tab), before_row, count)

    def delete_rows(self, spreadsheet_id: str, tab: str, row: int, count: int = 1) -> None:
        """Delete ``count`` rows from ``row`` (1-based)."""
        with self.lock:
            edits.delete_rows(self._sheet(spreadsheet_id, tab), row, count)

    def append_row(self, spreadsheet_id: str, tab: str, row_values: Sequence[Any]) -> int:
        """Type a new row under the data; returns its 1-based row number."""
        with self.lock:
            locale = self.workspace.get(spreadsheet_id).locale
            return edits.append_row(self._sheet(spreadsheet_id, tab), row_values, locale)

    def insert_blank_columns(
        self, spreadsheet_id: str, tab: str, before_col: int | str, count: int = 1
    ) -> None:
        """Insert empty columns left of ``before_col`` (its metadata, notes, merges move on)."""
        with self.lock:
            sheet = self._sheet(spreadsheet_id, tab)
            sheet.insert_cols(edits.column_of(sheet, before_col), count)

    def delete_columns(self, spreadsheet_id: str, tab: str, col: int | str, count: int = 1) -> None:
        """Delete ``count`` columns from ``col`` (their metadata goes with them)."""
        with self.lock:
            sheet = self._sheet(spreadsheet_id, tab)
            first = edits.column_of(sheet, col)
            if first + count > sheet.col_count or count >= sheet.col_count:
                raise ValueError("columns to delete must be inside the grid, and one must remain")
            sheet.delete_cols(first, first + count)

    def merge_cells(self, spreadsheet_id: str, tab: str, a1_range: str) -> None:
        """Merge all of ``a1_range`` (``F3:F4``), as Format > Merge; the top-left value stays."""
        with self.lock:
            book = self.workspace.get(spreadsheet_id)
            sheet, box = book.resolve(f"{_quoted(tab)}!{a1_range}")
            request = {
                "mergeCells": {
                    "range": {
                        "sheetId": sheet.sheet_id,
                        "startRowIndex": box.start_row,
                        "endRowIndex": box.end_row,
                        "startColumnIndex": box.start_col,
                        "endColumnIndex": box.end_col,
                    },
                    "mergeType": "MERGE_ALL",
                }
            }
            batch.apply(book, {"requests": [request]})

    def rename_tab(self, spreadsheet_id: str, tab: str, new_title: str) -> None:
        """Double-click the tab and type a new name."""
        with self.lock:
            book = self.workspace.get(spreadsheet_id)
            if book.find_title(new_title) is not None:
                raise ValueError(f"a tab named {new_title!r} already exists")
            book.sheet_by_title(tab).title = new_title

    def note(self, spreadsheet_id: str, tab: str, a1_cell: str) -> str:
        """The note on a cell ('' when none)."""
        with self.lock:
            sheet, box = self.workspace.get(spreadsheet_id).resolve(f"{_quoted(tab)}!{a1_cell}")
            return sheet.notes.get((box.start_row, box.start_col), "")

    def developer_metadata(self, spreadsheet_id: str) -> list[dict[str, Any]]:
        """Every developer metadata entry of the spreadsheet (not logged)."""
        with self.lock:
            book = self.workspace.get(spreadsheet_id)
            found = metadata.search(book, {"dataFilters": [{"developerMetadataLookup": {}}]})
            matched: list[dict[str, Any]] = found.get("matchedDeveloperMetadata", [])
            return [dict(item["developerMetadata"]) for item in matched]

    # -- in-process API: controls -----------------------------------------

    def set_faults(
        self,
        rate: float = 0.0,
        codes: Sequence[int] = (429, 500, 503),
        delay: float = 0.0,
        seed: int | None = None,
    ) -> None:
        """Fail a share of calls at random (seeded) and/or delay every call."""
        with self.lock:
            self.faults.configure(rate, codes, delay, seed)

    def fail_next(self, count: int = 1, code: int = 503) -> None:
        """Answer the next ``count`` API calls with ``code``."""
        with self.lock:
            self.faults.fail_next(count, code)

    def slow_appends(
        self, count: int = 1, land_after: float = 0.0, answer_after: float = 0.0
    ) -> None:
        """The next ``count`` ``values.append`` calls land late and/or answer late (over HTTP)."""
        with self.lock:
            self.faults.slow_appends(count, land_after, answer_after)

    def set_quota(
        self, read_per_minute: int | None = None, write_per_minute: int | None = None
    ) -> None:
        """Per-minute read/write limits like Google's (``None`` = no limit)."""
        with self.lock:
            self.quota.configure(read_per_minute, write_per_minute)

    @property
    def calls(self) -> list[Call]:
        """A copy of the call log."""
        with self.lock:
            return list(self.log.calls)

    def counts(self) -> dict[str, int]:
        """Call counters: total, read, write, ok, failed and per status code."""
        with self.lock:
            return self.log.counts()

    def reset_log(self) -> None:
        """Forget the logged calls."""
        with self.lock:
            self.log.reset()

    def reset(self) -> None:
        """Back to a fresh emulator: no spreadsheets, faults, quotas or log."""
        with self.lock:
            self.workspace.clear()
            self.faults.clear()
            self.quota.configure()
            self.log.reset()
            self.auth.clear()


def _quoted(tab: str) -> str:
    return "'" + tab.replace("'", "''") + "'"


def _one(query: Query, name: str, default: str | None = None) -> Any:
    value = query.get(name, default)
    if isinstance(value, list):
        return value[0] if value else default
    return value


def _many(query: Query, name: str) -> list[str]:
    value = query.get(name, [])
    if isinstance(value, str):
        return [value]
    if not value:
        raise bad_request("'ranges' is required but not specified")
    return list(value)
