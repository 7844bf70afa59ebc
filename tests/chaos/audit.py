"""Counting what went wrong after a chaos run: the figures ``make chaos`` prints."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sheetqueue.sheets.model import Request, Status
from sheetqueue.worker import notified

__all__ = ["ChaosAudit", "audit_queue", "marked_maybe", "status_of"]

_ORDER_IN_NOTE = re.compile(r"\bORD-[0-9A-Z-]+\b")
_TOLD = ("Ineligible", "Done", "Rejected")


@dataclass
class ChaosAudit:
    """Losses and wrong writes (must be 0) and bounded resends."""

    lost_requests: int = 0
    duplicate_rows: int = 0
    duplicate_notifications: int = 0
    missing_notifications: int = 0
    unexpected_notifications: int = 0
    team_cells_overwritten: int = 0
    wrong_row_writes: int = 0
    resends_after_kill: int = 0
    maybe_never_received: int = 0  # the row's cell says "maybe" (in flight when killed)
    details: list[str] = field(default_factory=list)

    def must_be_zero(self) -> dict[str, int]:
        return {
            "lost requests": self.lost_requests,
            "duplicate rows": self.duplicate_rows,
            "duplicate notifications": self.duplicate_notifications,
            "missing notifications": self.missing_notifications,
            "unexpected notifications": self.unexpected_notifications,
            "team cells overwritten": self.team_cells_overwritten,
            "writes into wrong rows": self.wrong_row_writes,
        }

    def line(self) -> str:
        parts = [f"{name} {value}" for name, value in self.must_be_zero().items()]
        parts.append(f"resends after a kill {self.resends_after_kill}")
        parts.append(f"marked maybe and never received {self.maybe_never_received}")
        return ", ".join(parts)


def audit_queue(
    rows: Iterable[Request],
    recorded: Iterable[str],
    team_cells: Mapping[str, Mapping[str, str]],
    received: Iterable[tuple[str, str]],
    *,
    kills: int,
) -> ChaosAudit:
    """Compare the final queue and the mail received with what was asked and set.

    ``received`` holds (Request ID header, Message-ID) per message that arrived;
    ``team_cells`` the team's cells per request, as the team last set them.
    """
    audit = ChaosAudit()
    rows = list(rows)
    ids = Counter(row.request_id for row in rows)
    audit.duplicate_rows = sum(count - 1 for count in ids.values() if count > 1)
    audit.lost_requests = len(set(recorded) - set(ids))
    by_id = {row.request_id: row for row in rows}
    for request_id, cells in team_cells.items():
        row = by_id.get(request_id)
        for name, value in cells.items():
            if row is not None and getattr(row, name) != value:
                audit.team_cells_overwritten += 1
                audit.details.append(f"{request_id}.{name}: {getattr(row, name)!r} != {value!r}")
    for row in rows:
        mentioned = set(_ORDER_IN_NOTE.findall(row.worker_note))
        if mentioned - {row.order_id}:
            audit.wrong_row_writes += 1
            audit.details.append(f"{row.request_id} note names {mentioned} on {row.order_id}")
    copies = Counter(received)
    resends = sum(count - 1 for count in copies.values() if count > 1)
    audit.resends_after_kill = min(resends, kills)
    audit.duplicate_notifications = resends - audit.resends_after_kill
    got = {(request_id, status_of(message_id)) for request_id, message_id in copies}
    expected = {(row.request_id, row.status) for row in rows if row.status in _TOLD}
    missing = expected - got
    maybe = {(rid, status) for rid, status in missing if marked_maybe(by_id[rid], status)}
    audit.maybe_never_received = len(maybe)
    audit.missing_notifications = len(missing - maybe)
    audit.details += [f"{rid} {status}: never received" for rid, status in sorted(missing - maybe)]
    audit.unexpected_notifications = len(got - expected)
    return audit


def marked_maybe(row: Request, status: str) -> bool:
    """The row's Notified cell says its ``status`` notice maybe went (a worker died mid-send)."""
    parsed = Status.parse(status)
    entry = notified.parse(row.notified).notice(parsed) if parsed else None
    return entry is not None and bool(entry.maybe)


def status_of(message_id: str) -> str:
    """The status a notice's Message-ID names (``<sq-REQ-...-done@host>`` -> Done)."""
    slug = message_id.strip("<>").split("@")[0].rsplit("-", 1)[-1]
    return {"ineligible": "Ineligible", "done": "Done", "rejected": "Rejected"}.get(slug, slug)
