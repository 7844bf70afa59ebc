"""The header contract: the columns the worker works with, remembered in the sheet itself.

When the worker first adopts a tab it tags each of its columns with Sheets
developer metadata (key ``sheetqueue:column``, the field as value, located on
the column) and the tab itself (key ``sheetqueue:queue``, the tagged fields as
value). Google moves a column's metadata with the column when people insert,
delete or move columns, and drops it with a deleted column, so any process on
any host finds the worker's columns again by their tags, not by their names.

Each read checks the header against the tags; a break stops work on the
sheet with a :class:`HeaderProblem` (what is wrong and the fix) instead of
adding columns or re-deciding rows:

- ``column_renamed``: a tagged column's header no longer names its field;
- ``column_missing``: a tagged column was deleted (or, on a tab seen for the
  first time that already holds requests, a column the requests need is absent);
- ``duplicate_header``: a second column is headed like one of the worker's;
- ``header_moved``: the header is no longer in row 1 (a title row above it);
- ``tab_renamed`` / ``not_the_queue``: the queue lives in another tab than
  ``SHEETQUEUE_REQUESTS_TAB`` names;
- ``archive_tab``: the tab named is an archive tab (key ``sheetqueue:archive``),
  which is never taken for the queue.

These are pure functions over the metadata and values the store read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sheetqueue.config.errors import StoreError
from sheetqueue.sheets.gsheets_layout import Layout, cell_text, column_letters
from sheetqueue.sheets.model import HEADER_BY_FIELD, OPTIONAL_HEADER, WORKER_FIELDS, header_key

__all__ = [
    "ALERT_KEY",
    "ARCHIVE_KEY",
    "COLUMN_KEY",
    "METADATA_FIELDS",
    "QUEUE_KEY",
    "HeaderProblem",
    "TabTags",
    "alert_requests",
    "check_tagged",
    "check_untagged",
    "find_queue_tab",
    "merged_rows",
    "read_tabs",
    "tag_requests",
]

COLUMN_KEY = "sheetqueue:column"
QUEUE_KEY = "sheetqueue:queue"
ALERT_KEY = "sheetqueue:alert"
ARCHIVE_KEY = "sheetqueue:archive"
METADATA_FIELDS = (
    "properties.title,"  # the spreadsheet's title, for `check`
    "sheets(properties,merges,developerMetadata,data(columnMetadata(developerMetadata)))"
)
_NEEDED_WITH_ROWS = ("status", "type", "order_id", "email")
_LOOK_DOWN = 10  # rows searched for a header that moved down
_ALIASES_FIX = "or add its header under [sheet.aliases] in the config"


class HeaderProblem(StoreError):
    """The sheet's header broke the contract; nothing is read as requests or written."""

    def __init__(self, reason: str, problem: str, fix: str, *, tab: str) -> None:
        super().__init__(f"sheetqueue stopped on {tab!r}: {problem} Fix: {fix}")
        self.reason = reason
        self.problem = problem
        self.fix = fix
        self.tab = tab


@dataclass(frozen=True)
class TabTags:
    """One tab as the metadata read shows it: id, title, tags, alert, merged ranges."""

    sheet_id: int
    title: str
    columns: Mapping[str, list[int]] = field(default_factory=dict)
    queue_fields: tuple[str, ...] | None = None
    alert: str | None = None
    merges: tuple[Mapping[str, Any], ...] = ()
    archive: bool = False

    @property
    def tagged(self) -> bool:
        """Whether the worker adopted this tab before."""
        return self.queue_fields is not None or bool(self.columns)


def read_tabs(answer: Mapping[str, Any]) -> list[TabTags]:
    """Every tab of a ``spreadsheets.get`` answer asked with :data:`METADATA_FIELDS`."""
    found = []
    for sheet in answer.get("sheets", []):
        props = sheet.get("properties", {})
        columns: dict[str, list[int]] = {}
        for block in sheet.get("data", []):
            start = int(block.get("startColumn", 0))
            for offset, column in enumerate(block.get("columnMetadata", [])):
                for entry in column.get("developerMetadata", []):
                    if entry.get("metadataKey") == COLUMN_KEY:
                        columns.setdefault(str(entry.get("metadataValue", "")), []).append(
                            start + offset
                        )
        # Two workers adopting a new sheet at once may both tag a column: the same
        # tag twice on one column is one tag, not a duplicated column.
        columns = {name: sorted(set(where)) for name, where in columns.items()}
        queue: tuple[str, ...] | None = None
        alert = None
        archive = False
        for entry in sheet.get("developerMetadata", []):
            value = str(entry.get("metadataValue", ""))
            archive = archive or entry.get("metadataKey") == ARCHIVE_KEY
            if entry.get("metadataKey") == QUEUE_KEY:
                queue = tuple(name for name in value.split(",") if name)
            elif entry.get("metadataKey") == ALERT_KEY:
                alert = value
        found.append(
            TabTags(
                int(props.get("sheetId", 0)),
                str(props.get("title", "")),
                columns,
                queue,
                alert,
                tuple(sheet.get("merges", [])),
                archive,
            )
        )
    return found


def find_queue_tab(tabs: Sequence[TabTags], title: str) -> TabTags:
    """The tab named ``title``, checked to be where the queue is; raises where it is not."""
    exact = [t for t in tabs if t.title == title]
    loose = [t for t in tabs if t.title.lower() == title.lower()]
    mine: TabTags | None = (exact or loose or [None])[0]  # type: ignore[list-item]
    queues = [
        t
        for t in tabs
        if t.tagged and not t.archive and (mine is None or t.sheet_id != mine.sheet_id)
    ]
    if mine is not None and mine.archive:
        raise HeaderProblem(
            "archive_tab",
            f"the tab {mine.title!r} is an archive of closed requests, not the queue.",
            "set SHEETQUEUE_REQUESTS_TAB to the queue's tab (Requests by default).",
            tab=mine.title,
        )
    if mine is None and queues:
        other = queues[0].title
        raise HeaderProblem(
            "tab_renamed",
            f"there is no tab {title!r}; the queue is now in the tab {other!r}.",
            f"set SHEETQUEUE_REQUESTS_TAB={other!r}, or rename the tab back to {title!r}.",
            tab=other,
        )
    if mine is None:
        raise StoreError(
            f"no tab {title!r} in the spreadsheet: run 'sheetqueue init-sheet' "
            "or set SHEETQUEUE_REQUESTS_TAB"
        )
    if not mine.tagged and queues:
        other = queues[0].title
        raise HeaderProblem(
            "not_the_queue",
            f"the queue the worker keeps is in the tab {other!r}, not in {title!r}.",
            f"set SHEETQUEUE_REQUESTS_TAB={other!r} (and delete the tab {title!r} if it "
            "was made by mistake).",
            tab=mine.title,
        )
    return mine


def check_tagged(values: Sequence[Sequence[Any]], tab: TabTags, names: Mapping[str, str]) -> Layout:
    """The layout of a tab the worker adopted before, or the HeaderProblem it shows."""
    header = _row(values, 0)
    remembered = tab.queue_fields
    if remembered is None:
        remembered = tuple(name for name in tab.columns if name not in OPTIONAL_HEADER)
    columns: dict[str, int] = {}
    for name in remembered:
        where = tab.columns.get(name, [])
        if not where:
            raise _missing(tab.title, name)
        if len(where) > 1:
            letters = " and ".join(column_letters(i) for i in where)
            raise HeaderProblem(
                "duplicate_header",
                f"columns {letters} both carry the worker's tag for {_label(name)}.",
                f"delete the copy that is not the original column {_label(name)}.",
                tab=tab.title,
            )
        columns[name] = where[0]
    _optional_columns(header, names, columns)
    wrong = [name for name, index in columns.items() if names.get(_key(header, index)) != name]
    if wrong:
        moved = _header_below(values, columns, names)
        if moved:
            raise _moved(tab.title, moved)
        name = wrong[0]
        index = columns[name]
        now = cell_text(header[index]) if index < len(header) else ""
        shown = f"headed {now!r}" if now.strip() else "left without a header"
        raise HeaderProblem(
            "column_renamed",
            f"column {column_letters(index)}, the worker's {_label(name)} column, is now {shown}; "
            "the worker cannot trust what it holds.",
            f"rename the header back to {_label(name)} "
            + (f"{_ALIASES_FIX}." if name not in WORKER_FIELDS else "(it is the worker's)."),
            tab=tab.title,
        )
    _no_duplicates(header, names, columns, tab.title, tagged=True)
    return Layout(tuple(cell_text(cell) for cell in header), columns)


def check_untagged(values: Sequence[Sequence[Any]], names: Mapping[str, str], tab: str) -> Layout:
    """The layout of a tab seen for the first time, or the HeaderProblem it shows."""
    header = _row(values, 0)
    layout = Layout.from_header(header, names)
    has_cells = any(cell_text(cell).strip() for row in values for cell in row)
    if not layout.columns:
        if not has_cells:
            return layout
        moved = _header_below(values, None, names)
        if moved:
            raise _moved(tab, moved)
        raise HeaderProblem(
            "header_moved",
            "row 1 holds no column the queue knows, but the tab is not empty.",
            "put the header (Request ID, Timestamp, Type, Status, ...) in row 1, or point "
            "SHEETQUEUE_REQUESTS_TAB at the queue's tab.",
            tab=tab,
        )
    _no_duplicates(header, names, layout.columns, tab, tagged=False)
    if any(any(cell_text(cell).strip() for cell in row) for row in values[1:]):
        for name in _NEEDED_WITH_ROWS:
            if name not in layout.columns:
                raise HeaderProblem(
                    "column_missing",
                    f"the tab holds requests but no column is headed {_label(name)}; adding an "
                    "empty one would re-decide every row.",
                    f"name that column {_label(name)} {_ALIASES_FIX}.",
                    tab=tab,
                )
    return layout


def merged_rows(merges: Sequence[Mapping[str, Any]], layout: Layout) -> dict[int, str]:
    """Data rows (1-based) where a merged range covers a worker column, with that range."""
    worker = {index for name, index in layout.columns.items() if name in WORKER_FIELDS}
    rows: dict[int, str] = {}
    for merge in merges:
        first_col, end_col = int(merge.get("startColumnIndex", 0)), int(merge["endColumnIndex"])
        if not worker.intersection(range(first_col, end_col)):
            continue
        first_row, end_row = int(merge.get("startRowIndex", 0)), int(merge["endRowIndex"])
        shown = f"{column_letters(first_col)}{first_row + 1}:{column_letters(end_col - 1)}{end_row}"
        for row in range(max(first_row, 1), end_row):
            rows.setdefault(row + 1, shown)
    return rows


def tag_requests(sheet_id: int, layout: Layout, tab: TabTags | None) -> list[dict[str, Any]]:
    """The batchUpdate requests that tag every known column not tagged yet, and the tab."""
    tagged = dict(tab.columns) if tab is not None else {}
    requests: list[dict[str, Any]] = []
    for name, index in sorted(layout.columns.items(), key=lambda item: item[1]):
        if tagged.get(name):
            continue
        location = {
            "dimensionRange": {
                "sheetId": sheet_id,
                "dimension": "COLUMNS",
                "startIndex": index,
                "endIndex": index + 1,
            }
        }
        requests.append(_create(COLUMN_KEY, name, location))
    fields = ",".join(name for name in HEADER_BY_FIELD if name in layout.columns)
    if tab is None or tab.queue_fields is None or ",".join(tab.queue_fields) != fields:
        if tab is not None and tab.queue_fields is not None:
            requests.append(_delete(QUEUE_KEY, sheet_id))
        requests.append(_create(QUEUE_KEY, fields, {"sheetId": sheet_id}))
    return requests


def alert_requests(tab: TabTags, note_column: int, text: str | None) -> list[dict[str, Any]]:
    """Post ``text`` as a note on the header cell of ``note_column`` (None: take it down)."""
    requests: list[dict[str, Any]] = []
    if tab.alert is not None:
        requests.append(_delete(ALERT_KEY, tab.sheet_id))
    requests.append(
        {
            "updateCells": {
                "start": {"sheetId": tab.sheet_id, "rowIndex": 0, "columnIndex": note_column},
                "rows": [{"values": [{"note": text or ""}]}],
                "fields": "note",
            }
        }
    )
    if text is not None:
        requests.append(_create(ALERT_KEY, text, {"sheetId": tab.sheet_id}))
    return requests


def _create(key: str, value: str, location: dict[str, Any]) -> dict[str, Any]:
    return {
        "createDeveloperMetadata": {
            "developerMetadata": {
                "metadataKey": key,
                "metadataValue": value,
                "location": location,
                "visibility": "DOCUMENT",
            }
        }
    }


def _delete(key: str, sheet_id: int) -> dict[str, Any]:
    lookup = {"metadataKey": key, "metadataLocation": {"sheetId": sheet_id}}
    return {"deleteDeveloperMetadata": {"dataFilter": {"developerMetadataLookup": lookup}}}


def _row(values: Sequence[Sequence[Any]], index: int) -> list[Any]:
    return list(values[index]) if index < len(values) else []


def _key(row: Sequence[Any], index: int) -> str:
    return header_key(cell_text(row[index])) if index < len(row) else ""


def _label(name: str) -> str:
    return repr(HEADER_BY_FIELD.get(name) or OPTIONAL_HEADER.get(name, name))


def _optional_columns(
    header: Sequence[Any], names: Mapping[str, str], columns: dict[str, int]
) -> None:
    """Add the first column headed like each optional field (``Label``) the tab has, if any.

    Optional columns are found by their header on every read, never remembered:
    adding, moving or deleting one is the team's business and stops nothing.
    """
    for index in range(len(header)):
        name = names.get(_key(header, index))
        if name in OPTIONAL_HEADER and name not in columns:
            columns[name] = index


def _missing(tab: str, name: str) -> HeaderProblem:
    if name == "request_id":
        fix = (
            "restore the deleted column (Edit > Undo, or File > Version history); the worker "
            "will not hand out new IDs for requests shoppers already hold an ID for."
        )
    else:
        fix = "restore the deleted column (Edit > Undo, or File > Version history)."
    return HeaderProblem(
        "column_missing",
        f"the worker's {_label(name)} column was deleted.",
        fix,
        tab=tab,
    )


def _moved(tab: str, row: int) -> HeaderProblem:
    return HeaderProblem(
        "header_moved",
        f"the header is in row {row}, not row 1 (a row was inserted above it).",
        "delete the rows above the header so that it is row 1 again (a title belongs in "
        "another tab or in a note).",
        tab=tab,
    )


def _header_below(
    values: Sequence[Sequence[Any]], columns: Mapping[str, int] | None, names: Mapping[str, str]
) -> int | None:
    """The first row under row 1 that reads as the header (tagged columns, or 2+ known names)."""
    for index in range(1, min(len(values), _LOOK_DOWN)):
        row = _row(values, index)
        if columns:
            hits = sum(1 for name, col in columns.items() if names.get(_key(row, col)) == name)
            if hits * 2 >= len(columns):
                return index + 1
        elif sum(1 for col in range(len(row)) if _key(row, col) in names) >= 2:
            return index + 1
    return None


def _no_duplicates(
    header: Sequence[Any],
    names: Mapping[str, str],
    columns: Mapping[str, int],
    tab: str,
    *,
    tagged: bool,
) -> None:
    for index in range(len(header)):
        name = names.get(_key(header, index))
        if name is None or name not in columns or columns[name] == index:
            continue
        if name in OPTIONAL_HEADER:  # the first one is read; a copy is the team's own
            continue
        ours, other = column_letters(columns[name]), column_letters(index)
        if tagged:
            problem = (
                f"columns {ours} and {other} are both headed {_label(name)}; "
                f"the worker's is {ours}."
            )
            fix = f"rename or delete column {other} (it is not the worker's)."
        else:
            problem = f"columns {ours} and {other} are both headed like {_label(name)}."
            fix = f"rename or delete the one that is not the queue's {_label(name)} column."
        raise HeaderProblem("duplicate_header", problem, fix, tab=tab)
