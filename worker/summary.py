"""The ``Summary`` tab: a picture of the queue for the team, built from the rows a pass read.

:func:`build_summary` is pure: the rows' cells (as the pass leaves them) and
the time in, a table of text cells out. It says, in this order:

- when the picture last changed (``Updated``);
- requests by status (every status, zeros included, and unknown words apart)
  and by type (with how many of each are open);
- the oldest open request: its Request ID, type, status, since when, and its
  age in whole days;
- the open requests past the review deadline (open longer than
  ``review_after_days``), how many and the oldest few;
- the notices no channel surely delivered: given up, nothing to send them
  to, or only maybe delivered (a channel took them but never answered).

Nothing in it moves with the clock alone except an age crossing a whole day
(or a request crossing the deadline), so a quiet pass builds the same table
and :func:`summary_changed` (which ignores the ``Updated`` row) says there is
nothing to write.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from sheetqueue.sheets.model import RequestType, Status
from sheetqueue.sheets.store import (
    SUMMARY_COLUMNS,
    SUMMARY_ROWS,
    QueueRead,
    StoredRequest,
    SummaryStore,
)
from sheetqueue.sheets.times import format_time, parse_time
from sheetqueue.worker.notified import parse

__all__ = [
    "LISTED",
    "SummaryRow",
    "build_summary",
    "render_grid",
    "rows_after",
    "stage_summary",
    "summary_changed",
]

LISTED = 10
"""At most this many requests are listed under the overdue and undelivered counts."""
UPDATED = "Updated"
_OTHER = "(other word)"


@dataclass(frozen=True)
class SummaryRow:
    """The cells of one request the summary needs, as text."""

    request_id: str
    type: str
    status: str
    timestamp: str
    notified: str


@dataclass(frozen=True)
class _Open:
    row: SummaryRow
    since: datetime


def build_summary(
    rows: Iterable[SummaryRow],
    now: datetime,
    *,
    review_after_days: int,
    zone: tzinfo = UTC,
) -> list[list[str]]:
    """The Summary tab's table at ``now``: rows of at most :data:`SUMMARY_COLUMNS` text cells."""
    rows = list(rows)
    by_status: dict[str, int] = {status.value: 0 for status in Status}
    by_type: dict[str, list[int]] = {kind.value: [0, 0] for kind in RequestType}
    open_rows: list[_Open] = []
    undated = 0
    undelivered: list[list[str]] = []
    for row in rows:
        status = Status.parse(row.status)
        word = status.value if status is not None else _OTHER
        by_status[word] = by_status.get(word, 0) + 1
        is_open = status is None or not status.is_closed
        kind = RequestType.parse(row.type)
        counts = by_type.setdefault(kind.value if kind is not None else _OTHER, [0, 0])
        counts[0] += 1
        counts[1] += int(is_open)
        if is_open:
            since = parse_time(row.timestamp, zone)
            if since is None:
                undated += 1
            else:
                open_rows.append(_Open(row, since))
        undelivered += _undelivered(row)
    open_rows.sort(key=lambda item: (item.since, item.row.request_id))
    deadline = timedelta(days=review_after_days)
    overdue = [item for item in open_rows if now - item.since >= deadline]

    table: list[list[str]] = [
        ["Summary", "kept by the worker"],
        [UPDATED, format_time(now)],
        [],
        ["Status", "Requests"],
        *([name, str(count)] for name, count in by_status.items()),
        ["Total", str(len(rows))],
        [],
        ["Type", "Requests", "Open"],
        *([name, str(total), str(opened)] for name, (total, opened) in by_type.items()),
        [],
        ["Open requests", str(len(open_rows) + undated)],
    ]
    if open_rows:
        table.append(["", "Request ID", "Type", "Since", "Age"])
        table.append(["Oldest open", *_listed(open_rows[0], now)])
    if undated:
        table.append(["No readable Timestamp", str(undated)])
    table.append([f"Open over {_days(review_after_days)}", str(len(overdue))])
    table += (["", *_listed(item, now)] for item in overdue[:LISTED])
    if len(overdue) > LISTED:
        table.append(["", f"and {len(overdue) - LISTED} more"])
    table += [[], ["Notices not delivered", str(len(undelivered))]]
    if undelivered:
        table.append(["", "Request ID", "About", "What happened"])
    table += (["", *entry] for entry in undelivered[:LISTED])
    if len(undelivered) > LISTED:
        table.append(["", f"and {len(undelivered) - LISTED} more"])
    return [cells[:SUMMARY_COLUMNS] for cells in table[:SUMMARY_ROWS]]


def summary_changed(new: Sequence[Sequence[str]], old: Sequence[Sequence[object]] | None) -> bool:
    """Whether ``new`` says something ``old`` (the tab as read) does not; ``Updated`` aside.

    Blank cells at the ends of rows and blank rows at the end do not count
    (the Sheets API leaves them out of what it reads).
    """
    if old is None:
        return True
    return _content(new) != _content(old)


def _content(table: Sequence[Sequence[object]]) -> list[list[str]]:
    rows = []
    for row in table:
        cells = ["" if cell is None else str(cell) for cell in row]
        if cells and cells[0] == UPDATED:
            cells = [UPDATED]
        while cells and not cells[-1]:
            cells.pop()
        rows.append(cells)
    while rows and not rows[-1]:
        rows.pop()
    return rows


def _listed(item: _Open, now: datetime) -> list[str]:
    row = item.row
    kind = RequestType.parse(row.type)
    return [
        row.request_id.strip() or "(no ID yet)",
        kind.value if kind is not None else row.type.strip(),
        format_time(item.since),
        _age(now - item.since),
    ]


def _age(age: timedelta) -> str:
    """Whole days: it changes once a day, not every pass."""
    days = max(age.days, 0)
    return "under a day" if days == 0 else _days(days)


def _days(days: int) -> str:
    return f"{days} day" if days == 1 else f"{days} days"


def _undelivered(row: SummaryRow) -> list[list[str]]:
    """One line per notice of the row that did not surely reach the shopper."""
    if not row.notified.strip():
        return []
    found = []
    request_id = row.request_id.strip()
    for entry in parse(row.notified).entries:
        if entry.kind == "not_sent":
            what = "gave up" if entry.reason.startswith("gave up") else entry.reason
            found.append([request_id, entry.status, f"not sent: {what}"])
        elif entry.kind == "told" and not entry.carried and (entry.gave_up or entry.maybe):
            parts = []
            if entry.maybe:
                parts.append(f"{', '.join(entry.maybe)} maybe delivered")
            if entry.gave_up:
                parts.append(f"{', '.join(entry.gave_up)} gave up")
            found.append([request_id, entry.status, "; ".join(parts)])
    return found


def rows_after(
    rows: Sequence[StoredRequest], planned: Mapping[int, Mapping[str, str]]
) -> Iterator[SummaryRow]:
    """The summary's view of each row as the pass's write leaves it (``planned``: by position).

    The cells are read column by column (a pass's :class:`QueueRead` keeps
    them as read), so no row becomes a :class:`StoredRequest` for the summary.
    """
    read = rows if isinstance(rows, QueueRead) else QueueRead.of(rows)
    columns = [read.texts(name) for name in ("request_id", "type", "status", "timestamp")]
    notified = read.texts("notified")
    empty: Mapping[str, str] = {}
    for position, request_id, kind, status, stamp, cell in zip(
        read.positions, *columns, notified, strict=True
    ):
        values = planned.get(position, empty)
        yield SummaryRow(
            request_id=values.get("request_id") or request_id,
            type=kind,
            status=values.get("status", status),
            timestamp=stamp,
            notified=values.get("notified", cell),
        )


def stage_summary(
    store: object,
    rows: Sequence[StoredRequest],
    planned: Mapping[int, Mapping[str, str]],
    now: datetime,
    *,
    review_after_days: int,
    zone: tzinfo = UTC,
) -> list[list[str]] | None:
    """Hand a store that keeps a Summary tab the pass's table, when it says something new.

    Returns the table staged (None: the store keeps none, or nothing changed).
    """
    if not isinstance(store, SummaryStore):
        return None
    table = build_summary(
        rows_after(rows, planned), now, review_after_days=review_after_days, zone=zone
    )
    if not summary_changed(table, store.summary_seen()):
        return None
    store.put_summary(table)
    return table


def render_grid(table: Sequence[Sequence[object]], *, columns: int = SUMMARY_COLUMNS) -> str:
    """The cells as a spreadsheet shows them: column letters on top, row numbers left."""
    rows = [["" if cell is None else str(cell) for cell in row][:columns] for row in table]
    while rows and not any(rows[-1]):
        rows.pop()
    rows = [[*row, *([""] * (columns - len(row)))] for row in rows]
    letters = [chr(ord("A") + index) for index in range(columns)]
    widths = [max([1, *(len(row[index]) for row in rows)]) for index in range(columns)]
    number = len(str(len(rows)))

    def line(left: str, cells: Sequence[str]) -> str:
        body = " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
        return f"{left.rjust(number)} | {body}".rstrip()

    rule = "-" * number + "-+-" + "-+-".join("-" * width for width in widths)
    out = [line("", letters), rule]
    out += [line(str(index), row) for index, row in enumerate(rows, start=1)]
    return "\n".join(out)
