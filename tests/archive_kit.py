"""Rows for the archive tests: closed long ago, closed lately, still open, still owed."""

from __future__ import annotations

from collections.abc import Sequence

from sheetqueue.sheets.model import CANONICAL_HEADER

__all__ = ["HEADER", "NOW", "OLD", "RECENT", "archive_rows", "expected_archived", "sheet_row"]

NOW = "2026-11-22T09:30:00Z"
OLD = "2026-01-05T10:00:00Z"  # closed more than 90 days before NOW
RECENT = "2026-11-20T10:00:00Z"  # closed two days before NOW


def archive_rows(count: int) -> list[dict[str, str]]:
    """``count`` rows, cycling through the kinds the archive must tell apart.

    Kinds by ``n % 5``: 0, 1 old Done / Rejected (archived), 2 old Ineligible
    (archived), 3 Done closed recently (kept), 4 Eligible (open, kept). Every
    tenth row instead owes its notice (kept).
    """
    rows = []
    for n in range(count):
        kind = n % 5
        status = ("Done", "Rejected", "Ineligible", "Done", "Eligible")[kind]
        when = RECENT if kind in (3, 4) else OLD
        notified = f"seen Pending {OLD}; {status} {when} email"
        if kind == 4:
            notified = f"seen Pending {OLD}"
        if n % 10 == 7:
            notified = f"seen Pending {OLD}; {status} owed {when}"
        rows.append(
            {
                "Request ID": f"REQ-ARC{n:013d}",
                "Timestamp": "2026-01-02T08:00:00Z",
                "Type": "return",
                "Status": status,
                "Order ID": f"00{n:04d}",  # text that looks like a number stays text
                "Email": f"s{n}@example.com",
                "Reason": "=1+1" if n == 0 else "too small",
                "Checked At": when,
                "Notified": notified,
                "Team Note": f"note {n}",
                "Courier": f"crate {n}",
            }
        )
    return rows


def sheet_row(cells: dict[str, str], header: Sequence[str]) -> list[str]:
    """One row of ``cells`` in the order of ``header``."""
    return [cells.get(name, "") for name in header]


def expected_archived(rows: Sequence[dict[str, str]]) -> set[str]:
    """The Request IDs the archive must move (closed before the cut-off, nothing owed)."""
    return {row["Request ID"] for n, row in enumerate(rows) if n % 5 in (0, 1, 2) and n % 10 != 7}


HEADER = (*CANONICAL_HEADER, "Courier")
