"""Moving closed rows out of the live queue: copy, verify by Request ID, then delete.

A row is archived when it is closed (``Done``, ``Rejected``, ``Ineligible``),
the worker has finished with it (seen it, owes no notice), and it closed
before the cut-off. When it closed is the latest time the row carries in
``Checked At`` and the ``Notified`` cell. It goes to the archive tab of that
year (``Archive 2026``).

Each batch runs three steps, each safe to repeat, so a run killed at any
moment is finished by the next one and no row is lost or copied twice:

1. *copy* the rows the archive does not hold yet (by Request ID);
2. *verify*: read the archive back; a copy that differs from the live row
   (the team edited it meanwhile) is rewritten in place, by Request ID;
3. *delete* from the live queue, found by Request ID, only rows that still
   hold exactly what the archive holds.

Every archived row leaves one ``archive`` line in the audit log (written
before the delete, and not again on a repeat); the log itself is never
trimmed. Rows are never found by position: the team sorts. The archive tabs
may be in another spreadsheet (the shelf's ``target``); the order is the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

import structlog

from sheetqueue.sheets.archive_shelf import ArchivedRow, ArchiveShelf
from sheetqueue.sheets.model import LogEntry, Request
from sheetqueue.sheets.store import Store
from sheetqueue.sheets.times import format_time, parse_time
from sheetqueue.worker.notified import parse

__all__ = [
    "ARCHIVE_BY",
    "ArchiveReport",
    "archive_closed",
    "archive_tab",
    "closed_at",
]

log = structlog.get_logger("sheetqueue.archive")

ARCHIVE_BY = "archive"
"""The ``By`` word of the audit-log line an archived row leaves."""


@dataclass
class ArchiveReport:
    """What one archive run did (or, dry, would do)."""

    cutoff: str
    dry_run: bool = False
    spreadsheet: str = ""  # the other spreadsheet the tabs are in; "" for the queue's own
    archived: int = 0
    tabs: dict[str, int] = field(default_factory=dict)
    copied: int = 0  # new copies written (a resumed run copies fewer than it archives)
    kept_recent: int = 0  # closed after the cut-off
    kept_owed: int = 0  # closed, but a notice is still owed or the worker never saw it
    kept_no_time: int = 0  # closed, but no readable Checked At / Notified time
    kept_no_id: int = 0
    changed: int = 0  # changed between the copy and the delete: left live, next run

    def document(self) -> dict[str, object]:
        return {
            "dry_run": self.dry_run,
            "cutoff": self.cutoff,
            "spreadsheet": self.spreadsheet or None,
            "archived": self.archived,
            "tabs": dict(sorted(self.tabs.items())),
            "copied": self.copied,
            "kept": {
                "recent": self.kept_recent,
                "owed": self.kept_owed,
                "no_time": self.kept_no_time,
                "no_id": self.kept_no_id,
                "changed": self.changed,
            },
        }


def archive_tab(moment: datetime) -> str:
    """The archive tab of a row closed at ``moment``: one per year."""
    return f"Archive {moment.year}"


def closed_at(request: Request, zone: tzinfo) -> datetime | None:
    """When the row was last touched by the worker: the latest Checked At / Notified time."""
    times = [parse_time(request.checked_at, zone)]
    times += [parse_time(entry.time, zone) for entry in parse(request.notified).entries]
    found = [moment for moment in times if moment is not None]
    return max(found) if found else None


def archive_closed(
    shelf: ArchiveShelf,
    store: Store,
    now: datetime,
    closed_for: timedelta,
    *,
    zone: tzinfo,
    dry_run: bool = False,
    batch: int = 500,
) -> ArchiveReport:
    """Move the rows closed more than ``closed_for`` before ``now`` to their archive tabs."""
    cutoff = now - closed_for
    report = ArchiveReport(cutoff=format_time(cutoff), dry_run=dry_run, spreadsheet=shelf.target)
    chosen: dict[str, list[ArchivedRow]] = {}
    for row in shelf.live_rows():
        tab = _due_tab(row, cutoff, zone, report)
        if tab is not None:
            chosen.setdefault(tab, []).append(row)
    if dry_run:
        for tab, rows in chosen.items():
            report.tabs[tab] = len(rows)
            report.archived += len(rows)
        return report
    logged = {entry.request_id for entry in store.read_log() if entry.by == ARCHIVE_BY}
    when = format_time(now)
    for tab, rows in sorted(chosen.items()):
        for start in range(0, len(rows), batch):
            _one_batch(shelf, store, tab, rows[start : start + batch], when, logged, report)
    log.info("archive.finished", **report.document())
    return report


def _due_tab(row: ArchivedRow, cutoff: datetime, zone: tzinfo, report: ArchiveReport) -> str | None:
    request = row.request
    status = request.parsed_status
    if status is None or not status.is_closed:
        return None
    if not row.request_id:
        report.kept_no_id += 1
        return None
    cell = parse(request.notified)
    if not cell.seen_by_worker or cell.owed():
        report.kept_owed += 1
        return None
    moment = closed_at(request, zone)
    if moment is None:
        report.kept_no_time += 1
        return None
    if moment >= cutoff:
        report.kept_recent += 1
        return None
    return archive_tab(moment)


def _one_batch(
    shelf: ArchiveShelf,
    store: Store,
    tab: str,
    rows: Sequence[ArchivedRow],
    when: str,
    logged: set[str],
    report: ArchiveReport,
) -> None:
    held = shelf.archived(tab)
    where = f"the tab {tab!r}" + (f" of spreadsheet {shelf.target!r}" if shelf.target else "")
    fresh = [row for row in rows if row.request_id not in held]
    if fresh:
        shelf.copy(tab, fresh, when)
        report.copied += len(fresh)
        held = shelf.archived(tab)
    stale = [row for row in rows if row.request_id in held and held[row.request_id] != row]
    if stale:
        shelf.rewrite(tab, stale)
        held = shelf.archived(tab)
    verified = [row for row in rows if held.get(row.request_id) == row]
    entries = [
        LogEntry(
            time=when,
            request_id=row.request_id,
            from_status=row.request.status,
            to_status=row.request.status,
            by=ARCHIVE_BY,
            note=f"moved to {where}",
        )
        for row in verified
        if row.request_id not in logged
    ]
    if entries:
        store.append_log(entries)
        logged.update(entry.request_id for entry in entries)
    deleted = shelf.delete(verified)
    report.archived += len(deleted)
    report.changed += len(rows) - len(deleted)
    if deleted:
        report.tabs[tab] = report.tabs.get(tab, 0) + len(deleted)
    log.info("archive.batch", tab=tab, copied=len(fresh), deleted=len(deleted))
