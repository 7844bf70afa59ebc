"""The ``Notified`` cell: which statuses the shopper was told about, and when.

Written by the worker as ``Ineligible 2026-11-22T09:30:00Z; Done 2026-11-23T10:00:00Z``.
A notice that could not go out reads ``Done not sent (no email address)``.
Read back, the cell is a second guard against telling anyone twice.
"""

from __future__ import annotations

from collections.abc import Sequence

from sheetqueue.sheets.model import Status
from sheetqueue.worker.ledger import FinishedNotice, NoticeState

__all__ = ["render_notified", "statuses_in_notified"]


def render_notified(outcomes: Sequence[FinishedNotice]) -> str:
    parts = []
    for outcome in outcomes:
        if outcome.state is NoticeState.SENT:
            parts.append(f"{outcome.status} {outcome.finished_at}".strip())
        elif outcome.state is NoticeState.SKIPPED:
            parts.append(f"{outcome.status} not sent (no address to send to)")
        else:
            parts.append(f"{outcome.status} not sent (gave up: {outcome.last_error})")
    return "; ".join(parts)


def statuses_in_notified(cell: str) -> set[Status]:
    """The statuses a Notified cell says were handled."""
    found = set()
    for part in cell.split(";"):
        words = part.strip()
        for status in Status:
            if words.lower().startswith(status.value.lower()):
                found.add(status)
    return found
