"""What one pass plans and reports: the report, each row's plan, and the helpers that build them.

:class:`PassReport` is what ``sheetqueue tick`` prints; :class:`RowPlan` is
what a pass will write to one row and the notices that write owes;
:class:`OrderCache` fetches each order at most once per pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sheetqueue.sheets.model import LogEntry, Request
from sheetqueue.sheets.orders import Order, OrderSource
from sheetqueue.sheets.store import CellUpdate, StoredRequest
from sheetqueue.sheets.times import format_time
from sheetqueue.worker.notified import (
    Cell,
)
from sheetqueue.worker.notify.message import Notice

__all__ = [
    "OrderCache",
    "PassReport",
    "RowPlan",
    "count_first_sight",
    "status_after",
    "team_change",
    "update_for",
    "with_sentence",
]


@dataclass
class PassReport:
    """What one pass did, as ``sheetqueue tick`` prints it."""

    checked: int = 0
    changed: int = 0
    planned: int = 0  # rows with cells to write
    notified: int = 0
    failed: int = 0
    skipped_rows: int = 0
    rows: int = 0
    adopted: dict[str, int] = field(default_factory=dict)  # first seen closed, by status
    seen: dict[str, int] = field(default_factory=dict)  # first seen open, by status
    maybe_delivered: int = 0
    postponed: int = 0
    problems: list[str] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)  # rows by status after the write

    def summary(self) -> dict[str, int]:
        return {
            "checked": self.checked,
            "changed": self.changed,
            "notified": self.notified,
            "failed": self.failed,
        }


@dataclass
class RowPlan:
    """What the pass will do to one row."""

    values: dict[str, str] = field(default_factory=dict)
    log: list[LogEntry] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    new_status: str = ""
    request: Request | None = None  # the row as the write leaves it
    cell: Cell = field(default_factory=Cell)
    adopted: str = ""  # first seen closed, in this status
    seen: str = ""  # first seen open, in this status


class OrderCache:
    """Each order fetched at most once per pass; the source opened only when one is needed."""

    def __init__(self, source: Callable[[], OrderSource]) -> None:
        self._open = source
        self._source: OrderSource | None = None
        self._found: dict[tuple[str, str], Order | None] = {}

    def opened(self) -> OrderSource:
        """The pass's order source, opened on first use (its errors fail the pass)."""
        if self._source is None:
            self._source = self._open()
        return self._source

    def get(self, order_id: str, email: str) -> Order | None:
        key = (order_id.strip().lower(), email.strip().lower())
        if key not in self._found:
            self._found[key] = self.opened().get(order_id.strip(), email.strip())
        return self._found[key]


def status_after(stored: StoredRequest, plan: RowPlan | None, applied: set[int]) -> str:
    """The status a row holds after the pass's write (from its cell when quiet)."""
    if plan is not None and stored.ref.position in applied and plan.request is not None:
        return plan.request.status
    return stored.text("status")


def update_for(stored: StoredRequest, plan: RowPlan) -> CellUpdate:
    text = stored.text
    expect = {"request_id": text("request_id"), "status": text("status")}
    if not expect["request_id"].strip():
        expect.update(timestamp=text("timestamp"), email=text("email"), order_id=text("order_id"))
    return CellUpdate(stored.ref, expect, dict(plan.values), log=tuple(plan.log))


def count_first_sight(report: PassReport, plan: RowPlan) -> None:
    if plan.adopted:
        report.adopted[plan.adopted] = report.adopted.get(plan.adopted, 0) + 1
    if plan.seen:
        report.seen[plan.seen] = report.seen.get(plan.seen, 0) + 1


def with_sentence(note: str, sentence: str) -> str:
    if not sentence or sentence in note:
        return note
    return f"{note} {sentence}".strip()


def team_change(stored: StoredRequest, before: str | None, now: datetime) -> list[LogEntry]:
    status = stored.text("status")
    if before is None or before == status:
        return []
    return [
        LogEntry(
            time=format_time(now),
            request_id=stored.text("request_id"),
            from_status=before,
            to_status=status,
            by="team",
        )
    ]
