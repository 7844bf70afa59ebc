"""The Summary table: what it counts, what it lists, and that only real changes change it."""

from __future__ import annotations

from dataclasses import dataclass

from freezegun import freeze_time

from sheetqueue.config.clock import utc_now
from sheetqueue.sheets.store import SUMMARY_COLUMNS, SUMMARY_ROWS, RowRef, StoredRequest
from sheetqueue.worker.summary import (
    LISTED,
    SummaryColumns,
    build_summary,
    columns_after,
    render_grid,
    summary_changed,
)

NOW = "2026-11-22T12:00:00Z"


@dataclass(frozen=True)
class SummaryRow:
    """The cells of one request the summary reads, as text, written row by row."""

    request_id: str
    type: str
    status: str
    timestamp: str
    notified: str


def of_rows(rows: list[SummaryRow]) -> SummaryColumns:
    """The columns a pass hands the summary, from rows written one by one."""
    stamps = [r.timestamp for r in rows]
    return SummaryColumns(
        request_id=[r.request_id for r in rows],
        type=[r.type for r in rows],
        status=[r.status for r in rows],
        notified=[r.notified for r in rows],
        timestamp_of=stamps.__getitem__,
    )


def row(
    request_id: str,
    status: str = "Pending",
    *,
    kind: str = "refund",
    created: str = "2026-11-22T09:00:00Z",
    notified: str = "",
) -> SummaryRow:
    return SummaryRow(request_id, kind, status, created, notified)


def summary(rows: list[SummaryRow], *, review_after_days: int) -> list[list[str]]:
    """The table for ``rows`` at the (frozen) time now."""
    return build_summary(of_rows(rows), utc_now(), review_after_days=review_after_days)


def section(table: list[list[str]], title: str) -> dict[str, list[str]]:
    """The rows under ``title`` up to the next blank row, by their first cell."""
    start = next(i for i, cells in enumerate(table) if cells and cells[0] == title)
    found: dict[str, list[str]] = {}
    for cells in table[start + 1 :]:
        if not cells:
            break
        found[cells[0]] = cells[1:]
    return found


def value(table: list[list[str]], label: str) -> list[str]:
    return next(cells[1:] for cells in table if cells and cells[0] == label)


@freeze_time(NOW)
def test_counts_by_status_and_type_with_every_status_listed() -> None:
    """Every status and type has a line (zeros too); blank is Pending; unknown words apart."""
    rows = [
        row("R1", ""),
        row("R2", "Done", kind="cancellation"),
        row("R3", "Needs Review", kind="Address-Change"),
        row("R4", "Parked", kind="gift wrap"),
    ]
    table = summary(rows, review_after_days=2)
    statuses = section(table, "Status")
    assert statuses["Pending"] == ["1"] and statuses["Done"] == ["1"]
    assert statuses["Eligible"] == ["0"] and statuses["(other word)"] == ["1"]
    assert statuses["Total"] == ["4"]
    types = section(table, "Type")
    assert types["refund"] == ["1", "1"]
    assert types["cancellation"] == ["1", "0"]  # closed: not open
    assert types["address_change"] == ["1", "1"]
    assert types["(other word)"] == ["1", "1"]
    assert value(table, "Open requests") == ["3"]
    assert value(table, "Updated") == [NOW]


@freeze_time(NOW)
def test_the_oldest_open_request_with_its_age_in_whole_days() -> None:
    """Closed rows are never the oldest open; the age is whole days since the Timestamp."""
    rows = [
        row("NEW", created="2026-11-22T08:00:00Z"),
        row("OLD", "Eligible", kind="return", created="2026-11-19T10:00:00Z"),
        row("CLOSED", "Rejected", created="2026-11-01T10:00:00Z"),
    ]
    table = summary(rows, review_after_days=5)
    assert value(table, "Oldest open") == ["OLD", "return", "2026-11-19T10:00:00Z", "3 days"]
    fresh = summary([rows[0]], review_after_days=5)
    assert value(fresh, "Oldest open")[-1] == "under a day"


@freeze_time(NOW)
def test_requests_open_past_the_review_deadline_are_counted_and_listed_oldest_first() -> None:
    """The deadline comes from the setting; closed rows and unreadable times are not overdue."""
    rows = [
        row("A", created="2026-11-20T11:00:00Z"),  # 2 days and 1 hour
        row("B", "In Progress", created="2026-11-18T11:00:00Z"),
        row("C", created="2026-11-21T11:00:00Z"),  # 1 day
        row("D", "Done", created="2026-11-01T11:00:00Z"),
        row("E", created="yesterday-ish"),
    ]
    table = summary(rows, review_after_days=2)
    start = table.index(["Open over 2 days", "2"])
    assert [cells[1] for cells in table[start + 1 : start + 3]] == ["B", "A"]
    assert value(table, "No readable Timestamp") == ["1"]
    assert ["Open over 1 day", "3"] in summary(rows, review_after_days=1)


@freeze_time(NOW)
def test_notices_given_up_unsendable_or_only_maybe_delivered_are_listed() -> None:
    """A notice some channel carried is delivered; the others are listed with what happened."""
    rows = [
        row("G", "Done", notified="Done not sent (gave up after 5 tries: 550 no such user)"),
        row("S", "Rejected", notified="Rejected not sent (no address to send to)"),
        row("M", "Done", notified="Done 2026-11-22T09:30:00Z webhook maybe"),
        row("OK", "Done", notified="Done 2026-11-22T09:30:00Z email, webhook gave up"),
        row("P", "Done", notified="Done owed 2026-11-22T09:30:00Z"),
        row("T", "Done", notified="Done 2026-11-22T09:30:00Z email"),
    ]
    table = summary(rows, review_after_days=2)
    assert value(table, "Notices not delivered") == ["3"]
    start = table.index(["Notices not delivered", "3"]) + 2
    assert table[start : start + 3] == [
        ["", "G", "Done", "not sent: gave up"],
        ["", "S", "Rejected", "not sent: no address to send to"],
        ["", "M", "Done", "webhook maybe delivered"],
    ]


def test_a_quiet_hour_changes_nothing_and_a_new_day_of_age_does() -> None:
    """Only the Updated row moves with the clock until an age crosses a whole day."""
    rows = [row("R1", created="2026-11-21T13:00:00Z")]
    with freeze_time(NOW):
        first = summary(rows, review_after_days=3)
    with freeze_time("2026-11-22T12:59:00Z"):
        later = summary(rows, review_after_days=3)
    with freeze_time("2026-11-22T13:00:00Z"):
        next_day = summary(rows, review_after_days=3)
    assert later != first and not summary_changed(later, first)
    assert summary_changed(next_day, first)
    assert value(next_day, "Oldest open")[-1] == "1 day"


@freeze_time(NOW)
def test_changed_ignores_what_the_api_leaves_out_and_unknown_is_changed() -> None:
    """Trailing blank cells and rows do not count; a tab never read counts as changed."""
    table = summary([row("R1")], review_after_days=2)
    as_read = [list(cells) for cells in table] + [["", ""], []]
    as_read[3] = [*as_read[3], ""]
    assert not summary_changed(table, as_read)
    assert summary_changed(table, None) and summary_changed(table, [])
    edited = [list(cells) for cells in table]
    edited[5][1] = "99"
    assert summary_changed(table, edited)


@freeze_time(NOW)
def test_long_lists_are_cut_and_the_table_fits_its_block() -> None:
    """At most LISTED rows are listed, then a count of the rest; never past the tab's block."""
    rows = [row(f"R{i:02}", created="2026-11-01T00:00:00Z") for i in range(LISTED + 5)]
    rows += [row(f"G{i}", "Done", notified="Done not sent (gave up)") for i in range(30)]
    table = summary(rows, review_after_days=2)
    assert ["", "and 5 more"] in table and ["", "and 20 more"] in table
    assert len(table) <= SUMMARY_ROWS and all(len(cells) <= SUMMARY_COLUMNS for cells in table)


@freeze_time(NOW)
def test_columns_after_takes_the_pass_s_planned_cells_over_the_read_ones() -> None:
    """The summary counts a row in the status the pass's write gives it."""
    columns = {"request_id": 0, "type": 1, "status": 2, "timestamp": 3, "notified": 4}
    stored = [
        StoredRequest(None, RowRef(2), cells=["", "refund", "", NOW, ""], columns=columns),
        StoredRequest(None, RowRef(3), cells=["R3", "return", "Done", NOW, ""], columns=columns),
    ]
    planned = {2: {"request_id": "R2", "status": "Eligible", "notified": "seen Pending " + NOW}}
    after = columns_after(stored, planned)
    assert list(zip(after.request_id, after.status, strict=True)) == [
        ("R2", "Eligible"),
        ("R3", "Done"),
    ]
    assert after.notified[0].startswith("seen") and after.timestamp_of(1) == NOW


def test_render_grid_prints_letters_row_numbers_and_aligned_cells() -> None:
    """The picture: one line per row, column letters on top, blank rows at the end left out."""
    text = render_grid([["Status", "Requests"], ["Pending", "3"], [], []], columns=2)
    assert text.splitlines() == [
        "  | A       | B",
        "--+---------+---------",
        "1 | Status  | Requests",
        "2 | Pending | 3",
    ]


@freeze_time(NOW)
def test_only_open_rows_have_their_timestamp_read() -> None:
    """Closed history is counted from its status alone: its Timestamp cell is never read."""
    rows = [row("OPEN"), row("DONE", "Done"), row("GONE", "Rejected", created="not a time")]
    asked: list[int] = []
    base = of_rows(rows)

    def stamp(index: int) -> str:
        asked.append(index)
        return base.timestamp_of(index)

    columns = SummaryColumns(
        base.request_id, base.type, base.status, base.notified, timestamp_of=stamp
    )
    table = build_summary(columns, utc_now(), review_after_days=2)
    assert asked == [0]
    assert value(table, "Oldest open")[0] == "OPEN"
