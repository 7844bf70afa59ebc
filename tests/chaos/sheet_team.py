"""A busy team and a watchful emulator for the Google Sheets chaos runs.

:class:`WatchedEmulator` is the Sheets API emulator that also checks every
``values.batchUpdate`` on the queue tab: a cell written outside the
worker's columns is counted in ``team_column_writes``. It can run a hook
right after the queue tab is read (a team edit *during* a pass, between the
worker's read and its compare-and-set check). :class:`Team` makes the hand
edits a person makes in the sheet and remembers the cells it set, for
:func:`tests.chaos.audit.audit_queue`.

The one gap the Sheets API leaves open is the few milliseconds between the
store's pre-write check (a ``batchGet``) and its ``batchUpdate``: Google has
no conditional write, so an edit inside it cannot be seen. The team here
never edits inside that gap (``in_write_gap``); everything else is fair game.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sheetqueue.config.settings import Settings
from sheetqueue.sheets.model import WORKER_FIELDS, Request, Status, field_for_header
from sheetqueue.sheets.orders import Order
from sheetqueue.sheets.testing.emulator import Emulator
from sheetqueue.sheets.testing.emulator.a1 import column_index
from sheetqueue.worker.eligibility import decide
from tests.smtp_server import SmtpServer

__all__ = ["Team", "WatchedEmulator", "misplaced_decisions", "received_by_smtp"]

_CELLS = re.compile(r"!\$?([A-Z]+)\$?\d*(?::\$?([A-Z]+)\$?\d*)?")
_GAP_SECONDS = 3.0
_SORT_COLUMNS = ("Request ID", "Email", "Type", "Status", "Order ID", "Timestamp")


class WatchedEmulator(Emulator):
    """The emulator, plus a check on every cell written into the queue tab."""

    def __init__(self, tab: str = "Requests", seed: int = 0) -> None:
        super().__init__(seed=seed)
        self.tab = tab
        self.after_tab_read: Callable[[], object] | None = None
        self.team_column_writes: list[str] = []
        self._gap_opened: float | None = None

    def __enter__(self) -> WatchedEmulator:
        super().__enter__()
        return self

    def handle(self, method: str, path: str, query: Any, body: Any) -> tuple[int, Any]:
        if method.upper() == "POST" and path.endswith("values:batchUpdate"):
            self._check_columns(path, body)
            with self.lock:
                self._gap_opened = None
        status, answer = super().handle(method, path, query, body)
        if status != 200:
            return status, answer
        if method.upper() == "GET" and self._is_pass_read(path, query):
            with self.lock:
                self._gap_opened = None
            if self.after_tab_read is not None:
                self.after_tab_read()
        elif method.upper() == "GET" and path.endswith("values:batchGet"):
            with self.lock:
                self._gap_opened = time.monotonic()
        elif method.upper() == "GET" and self._is_tab_read(path):
            with self.lock:
                self._gap_opened = None
            if self.after_tab_read is not None:
                self.after_tab_read()
        return status, answer

    def in_write_gap(self) -> bool:
        """True between a store's pre-write check and its write (hold ``lock`` to rely on it)."""
        opened = self._gap_opened
        return opened is not None and time.monotonic() - opened < _GAP_SECONDS

    def _is_pass_read(self, path: str, query: Any) -> bool:
        """A pass's read of the queue as a batchGet: row 1, then the rows from A2 down."""
        if not path.endswith("values:batchGet"):
            return False
        ranges = query.get("ranges", []) if isinstance(query, dict) else []
        ranges = [ranges] if isinstance(ranges, str) else ranges
        return any(self.tab in str(r) and "!A2:" in str(r) for r in ranges)

    def _is_tab_read(self, path: str) -> bool:
        tail = path.rpartition("/values/")[2]
        return bool(tail) and self.tab in tail and "!" not in tail

    def _check_columns(self, path: str, body: Any) -> None:
        book = path.split("/v4/spreadsheets/")[1].split("/")[0]
        header: list[Any] = []
        for item in (body or {}).get("data", []):
            rng = str(item.get("range", ""))
            if self.tab not in rng.partition("!")[0]:
                continue
            if not header:
                header = (self.values(book, self.tab) or [[]])[0]
            match = _CELLS.search(rng)
            if match is None:
                self.team_column_writes.append(f"unreadable range {rng}")
                continue
            first = column_index(match.group(1))
            last = column_index(match.group(2) or match.group(1))
            for index in range(first, last + 1):
                name = str(header[index]) if index < len(header) else ""
                if field_for_header(name) not in WORKER_FIELDS:
                    self.team_column_writes.append(f"{rng} ({name or 'no header'})")


class Team:
    """People working the sheet by hand: sort, insert and delete blank rows, decide, note."""

    def __init__(self, emulator: WatchedEmulator, book: str, rng: random.Random) -> None:
        self.emulator = emulator
        self.book = book
        self.rng = rng
        self.cells: dict[str, dict[str, str]] = {}
        self.edits: dict[str, int] = {}

    def act(self) -> str:
        """One random hand edit (outside the write gap); returns its name or ``wait``."""
        with self.emulator.lock:
            if self.emulator.in_write_gap():
                return "wait"
            action = self.rng.choice(
                [self._sort, self._insert, self._delete_blank, self._decide, self._note]
            )
            name = action(self.emulator.values(self.book, self.emulator.tab))
        self.edits[name] = self.edits.get(name, 0) + 1
        return name

    def _sort(self, _values: list[list[Any]]) -> str:
        column = self.rng.choice(_SORT_COLUMNS)
        self.emulator.sort_rows(self.book, self.emulator.tab, column, self.rng.random() < 0.5)
        return "sort"

    def _insert(self, values: list[list[Any]]) -> str:
        where = self.rng.randint(2, max(2, len(values) + 1))
        self.emulator.insert_blank_rows(self.book, self.emulator.tab, where, self.rng.randint(1, 2))
        return "insert"

    def _delete_blank(self, values: list[list[Any]]) -> str:
        blank = [n + 1 for n, row in enumerate(values) if n > 0 and not any(map(str, row))]
        if not blank:
            return self._insert(values)
        self.emulator.delete_rows(self.book, self.emulator.tab, self.rng.choice(blank))
        return "delete"

    def _decide(self, values: list[list[Any]]) -> str:
        rows = _rows(values)
        waiting = [
            (n, r)
            for n, r in rows
            if r.get("status") in (Status.ELIGIBLE.value, Status.NEEDS_REVIEW.value)
        ]
        if not waiting:
            return self._note(values)
        row, cells = self.rng.choice(waiting)
        status = self.rng.choice([Status.DONE.value, Status.REJECTED.value])
        note = f"by hand {self.rng.randint(1, 9999)}"
        self._set(row, cells["request_id"], {"status": status, "team_note": note})
        if status == Status.REJECTED.value and self.rng.random() < 0.5:
            self._set(row, cells["request_id"], {"shopper_message": "Sorry, we cannot."})
        return "decide"

    def _note(self, values: list[list[Any]]) -> str:
        rows = [(n, r) for n, r in _rows(values) if r.get("request_id")]
        if not rows:
            return "note"
        row, cells = self.rng.choice(rows)
        self._set(row, cells["request_id"], {"team_note": f"called {self.rng.randint(1, 99)}"})
        return "note"

    def _set(self, row: int, request_id: str, cells: Mapping[str, str]) -> None:
        for name, value in cells.items():
            self.emulator.edit_cell(
                self.book, self.emulator.tab, row, name.replace("_", " "), value
            )
        self.cells.setdefault(request_id, {}).update(cells)


def _rows(values: list[list[Any]]) -> list[tuple[int, dict[str, str]]]:
    """(1-based row, cells by field) of every data row."""
    if not values:
        return []
    fields = [field_for_header(str(h)) or "" for h in values[0]]
    found = []
    for n, row in enumerate(values[1:], start=2):
        cells = {f: str(v) for f, v in zip(fields, row, strict=False) if f}
        if any(cells.values()):
            found.append((n, cells))
    return found


def received_by_smtp(servers: Iterable[SmtpServer]) -> list[tuple[str, str]]:
    """(Request ID header, Message-ID) of every message that reached the servers."""
    return [
        (str(m.message["X-Sheetqueue-Request"]), str(m.message["Message-ID"]))
        for server in servers
        for m in server.messages
    ]


def misplaced_decisions(
    rows: Iterable[Request], orders: Mapping[str, Order], settings: Settings, now: Any
) -> list[str]:
    """Rows whose ``Decision`` is not the one their own order gives (a write into a wrong row)."""
    wrong = []
    for row in rows:
        if not row.decision:
            continue
        expected = decide(row, orders.get(row.order_id), settings.policy, now, settings.zone).cell
        if row.decision != expected:
            wrong.append(f"{row.request_id} on {row.order_id}: {row.decision} != {expected}")
    return wrong
