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

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from itertools import compress
from itertools import count as count_from

from sheetqueue.sheets.model import RequestType, Status
from sheetqueue.sheets.store import (
    SUMMARY_COLUMNS,
    SUMMARY_ROWS,
    QueueRead,
    StoredRequest,
    SummaryStore,
)
from sheetqueue.sheets.times import format_time, parse_time
from sheetqueue.worker.notified import may_tell_of_failure, parse

__all__ = [
    "LISTED",
    "SummaryColumns",
    "build_summary",
    "columns_after",
    "render_grid",
    "stage_summary",
    "summary_changed",
]

LISTED = 10
"""At most this many requests are listed under the overdue and undelivered counts."""
UPDATED = "Updated"
_OTHER = "(other word)"


@dataclass(frozen=True)
class SummaryColumns:
    """The queue as the summary reads it: one sequence of text cells per field.

    Row ``i`` is the ``i``-th cell of each. The Timestamp is asked for by row
    (``timestamp_of(i)``) and only for open rows, so a pass never converts the
    dates of its closed history.
    """

    request_id: Sequence[str]
    type: Sequence[str]
    status: Sequence[str]
    notified: Sequence[str]
    timestamp_of: Callable[[int], str]


@dataclass(frozen=True)
class _Open:
    request_id: str
    type: str
    since: datetime


def build_summary(
    columns: SummaryColumns,
    now: datetime,
    *,
    review_after_days: int,
    zone: tzinfo = UTC,
) -> list[list[str]]:
    """The Summary tab's table at ``now``: rows of at most :data:`SUMMARY_COLUMNS` text cells.

    Counting goes over the columns (each distinct status and type word read
    once); only open rows and ``Notified`` cells that tell of a failure are
    looked at one by one.
    """
    statuses = columns.status
    status_of = {word: Status.parse(word) for word in set(statuses)}
    open_word = {word: status is None or not status.is_closed for word, status in status_of.items()}
    by_status: dict[str, int] = {status.value: 0 for status in Status}
    for word, count in Counter(statuses).items():
        status = status_of[word]
        name = status.value if status is not None else _OTHER
        by_status[name] = by_status.get(name, 0) + count
    by_type: dict[str, list[int]] = {kind.value: [0, 0] for kind in RequestType}
    for (type_word, word), count in Counter(zip(columns.type, statuses, strict=True)).items():
        kind = RequestType.parse(type_word)
        counts = by_type.setdefault(kind.value if kind is not None else _OTHER, [0, 0])
        counts[0] += count
        counts[1] += count if open_word[word] else 0
    open_rows: list[_Open] = []
    undated = 0
    for index in compress(count_from(), map(open_word.__getitem__, statuses)):
        since = parse_time(columns.timestamp_of(index), zone)
        if since is None:
            undated += 1
        else:
            open_rows.append(_Open(columns.request_id[index], columns.type[index], since))
    undelivered = [
        line
        for request_id, cell in zip(columns.request_id, columns.notified, strict=True)
        if cell and may_tell_of_failure(cell)
        for line in _undelivered(request_id, cell)
    ]
    open_rows.sort(key=lambda item: (item.since, item.request_id))
    deadline = timedelta(days=review_after_days)
    overdue = [item for item in open_rows if now - item.since >= deadline]

    table: list[list[str]] = [
        ["Summary", "kept by the worker"],
        [UPDATED, format_time(now)],
        [],
        ["Status", "Requests"],
        *([name, str(count)] for name, count in by_status.items()),
        ["Total", str(len(statuses))],
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
    kind = RequestType.parse(item.type)
    return [
        item.request_id.strip() or "(no ID yet)",
        kind.value if kind is not None else item.type.strip(),
        format_time(item.since),
        _age(now - item.since),
    ]


def _age(age: timedelta) -> str:
    """Whole days: it changes once a day, not every pass."""
    days = max(age.days, 0)
    return "under a day" if days == 0 else _days(days)


def _days(days: int) -> str:
    return f"{days} day" if days == 1 else f"{days} days"


def _undelivered(request_id: str, notified: str) -> list[list[str]]:
    """One line per notice of the row that did not surely reach the shopper."""
    found = []
    request_id = request_id.strip()
    for entry in parse(notified).entries:
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


def columns_after(
    rows: Sequence[StoredRequest], planned: Mapping[int, Mapping[str, str]]
) -> SummaryColumns:
    """The summary's columns as the pass's write leaves the rows (``planned``: by position).

    The cells are read column by column (a pass's :class:`QueueRead` keeps
    them as read), so no row becomes a :class:`StoredRequest` for the summary
    but the open ones, for their Timestamp.
    """
    read = rows if isinstance(rows, QueueRead) else QueueRead.of(rows)
    fields = {name: read.texts(name) for name in ("request_id", "type", "status", "notified")}
    changed = {position: values for position, values in planned.items() if values}
    if changed:
        fields = {name: list(cells) for name, cells in fields.items()}
        for index, position in enumerate(read.positions):
            values = changed.get(position)
            if values is None:
                continue
            for name, cells in fields.items():
                new = values.get(name)
                if new is not None and (new or name != "request_id"):
                    cells[index] = new
    return SummaryColumns(**fields, timestamp_of=lambda index: read[index].text("timestamp"))


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
        columns_after(rows, planned), now, review_after_days=review_after_days, zone=zone
    )
    if not summary_changed(table, store.summary_seen()):
        return None
    if not store.put_summary(table):
        return None
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
