"""``sheetqueue init-sheet``: create or upgrade the Requests tab so a team can work in it.

It makes sure of: the tab, the canonical header (missing columns added to the
right, nothing moved), row 1 frozen, a dropdown of the statuses on ``Status``
(not strict: a typo is allowed and the worker explains it), a colour per
status, the worker's columns protected with a warning only, a colour for
overdue rows (open longer than ``review_after_days``: one conditional-format
rule, so no pass pays for it), the ``Log`` tab and the ``Summary`` tab. It
looks first and only asks for what is missing, so a second run changes nothing.
It tags the columns (the header contract of
:mod:`sheetqueue.sheets.gsheets_header`). When the spreadsheet already holds
the queue under another tab name (a tab the worker tagged, or one whose row 1
is a queue's header), it says so (a :class:`ConfigError` naming the tab and
``SHEETQUEUE_REQUESTS_TAB``) instead of creating an empty tab beside it.

The API cannot list data validations without reading cells, so the dropdown
is set together with the status colours, and the colours (which the
metadata does list) tell whether both are there.
"""

from __future__ import annotations

from typing import Any

from sheetqueue.config.errors import ConfigError, StoreError
from sheetqueue.sheets.gsheets_header import METADATA_FIELDS, HeaderProblem, read_tabs
from sheetqueue.sheets.gsheets_layout import Layout, column_letters, quote_tab
from sheetqueue.sheets.gsheets_store import GsheetsStore
from sheetqueue.sheets.model import CANONICAL_HEADER, Status

__all__ = ["OVERDUE_COLOUR", "PROTECTED_FIELDS", "STATUS_COLOURS", "init_sheet", "overdue_formula"]

PROTECTED_FIELDS = ("request_id", "decision", "worker_note", "checked_at", "notified")
"""Worker columns a person is warned about before editing (Status is the team's to move)."""

STATUS_COLOURS: dict[Status, tuple[float, float, float]] = {
    Status.PENDING: (1.0, 0.95, 0.8),
    Status.ELIGIBLE: (0.85, 0.94, 0.83),
    Status.NEEDS_REVIEW: (0.92, 0.85, 0.95),
    Status.INELIGIBLE: (0.96, 0.8, 0.8),
    Status.APPROVED: (0.8, 0.9, 0.97),
    Status.IN_PROGRESS: (0.8, 0.93, 0.95),
    Status.DONE: (0.72, 0.88, 0.7),
    Status.REJECTED: (0.9, 0.6, 0.6),
}
OVERDUE_COLOUR = (1.0, 0.85, 0.6)
"""Orange: the row's other cells while it is open past the review deadline."""
_OVERDUE_MARK = 'N("sheetqueue: overdue")=0'  # always true; tells our rule from a team's
_PROTECTION_NOTE = "sheetqueue: written by the worker"
_FIELDS = "sheets(properties,protectedRanges,conditionalFormats)"


def init_sheet(store: GsheetsStore, *, review_after_days: int = 2) -> list[str]:
    """Bring the spreadsheet up to what the queue needs; return what was changed."""
    changes: list[str] = []
    tab = _tab_or_create(store, changes)
    layout = _header(store, changes)
    props = tab["properties"]
    sheet_id = int(props["sheetId"])
    requests: list[dict[str, Any]] = []
    if int(props.get("gridProperties", {}).get("frozenRowCount", 0)) != 1:
        requests.append(_freeze(sheet_id))
        changes.append("froze row 1")
    status_col = layout.columns["status"]
    if not _has_status_colours(tab, status_col):
        requests.append(_dropdown(sheet_id, status_col))
        requests += _colours(sheet_id, status_col)
        changes.append("status dropdown and colours on Status")
    protected = _protected_columns(tab)
    for name in PROTECTED_FIELDS:
        column = layout.columns.get(name)
        if column is not None and column not in protected:
            requests.append(_protect(sheet_id, column))
            changes.append(f"warning on edits to {layout.header[column]!r}")
    overdue = _overdue(tab, sheet_id, layout, review_after_days)
    if overdue is not None:  # first: its index is one of the rules as they stand now
        requests.insert(0, overdue)
        changes.append(f"colour for rows open over {review_after_days} days")
    if requests:
        store.reader.forget()  # the tab's metadata changes: the next read reads it afresh
        store.api.structure(requests)
    if store.tabs.ensure_log():
        changes.append(f"created tab {store.log_tab!r}")
    _summary_tab(store, changes)
    return changes


def _header(store: GsheetsStore, changes: list[str]) -> Layout:
    try:
        added = store.ensure_header()
    except HeaderProblem as problem:
        if problem.reason in ("tab_renamed", "not_the_queue"):
            raise ConfigError(f"SHEETQUEUE_REQUESTS_TAB: {problem}") from None
        raise
    if len(added) == len(CANONICAL_HEADER):
        changes.append(f"wrote the header ({len(added)} columns)")
    elif added:
        changes.append(f"added columns: {', '.join(added)}")
    layout = store.layout
    if layout is None or "status" not in layout.columns:
        raise StoreError(f"no Status column in {store.requests_tab!r} after adding the header")
    return layout


def _summary_tab(store: GsheetsStore, changes: list[str]) -> None:
    title = store.summary.title
    if title and store.tabs.properties(title) is None:
        store.tabs.add_tab(title)
        changes.append(f"created tab {title!r}")


def _tab_or_create(store: GsheetsStore, changes: list[str]) -> dict[str, Any]:
    tab = _tab(store)
    if tab is not None:
        return tab
    other = _queue_elsewhere(store)
    if other is not None:
        raise ConfigError(
            f"SHEETQUEUE_REQUESTS_TAB: the spreadsheet already holds the queue in the tab "
            f"{other!r}; set SHEETQUEUE_REQUESTS_TAB={other!r} (or rename that tab to "
            f"{store.requests_tab!r}) instead of creating an empty {store.requests_tab!r}"
        )
    store.tabs.add_tab(store.requests_tab)
    changes.append(f"created tab {store.requests_tab!r}")
    tab = _tab(store)
    if tab is None:
        raise StoreError(f"tab {store.requests_tab!r} could not be created")
    return tab


def _queue_elsewhere(store: GsheetsStore) -> str | None:
    """The title of another tab that holds the queue: tagged, or headed like one."""
    tabs = read_tabs(store.api.metadata(METADATA_FIELDS))
    tagged = [t.title for t in tabs if t.tagged]
    if tagged:
        return tagged[0]
    side = {store.log_tab.lower(), store.tabs.orders_tab.lower()}
    others = [t.title for t in tabs if t.title.lower() not in side and not t.title.startswith("_")]
    if not others:
        return None
    rows = store.api.batch_get([f"{quote_tab(title)}!1:1" for title in others])
    for title, block in zip(others, rows, strict=False):
        layout = Layout.from_header(block[0] if block else [], store.names)
        if "status" in layout.columns and len(layout.columns) >= 4:
            return title
    return None


def _tab(store: GsheetsStore) -> dict[str, Any] | None:
    for sheet in store.api.metadata(_FIELDS).get("sheets", []):
        if sheet.get("properties", {}).get("title") == store.requests_tab:
            return dict(sheet)
    return None


def _column_range(sheet_id: int, column: int, first_row: int = 1) -> dict[str, Any]:
    return {
        "sheetId": sheet_id,
        "startRowIndex": first_row,
        "startColumnIndex": column,
        "endColumnIndex": column + 1,
    }


def _freeze(sheet_id: int) -> dict[str, Any]:
    return {
        "updateSheetProperties": {
            "properties": {"sheetId": sheet_id, "gridProperties": {"frozenRowCount": 1}},
            "fields": "gridProperties.frozenRowCount",
        }
    }


def _dropdown(sheet_id: int, column: int) -> dict[str, Any]:
    return {
        "setDataValidation": {
            "range": _column_range(sheet_id, column),
            "rule": {
                "condition": {
                    "type": "ONE_OF_LIST",
                    "values": [{"userEnteredValue": status.value} for status in Status],
                },
                "strict": False,
                "showCustomUi": True,
                "inputMessage": "Pick a status; the worker explains a word it does not know.",
            },
        }
    }


def _colours(sheet_id: int, column: int) -> list[dict[str, Any]]:
    rules = []
    for index, (status, (red, green, blue)) in enumerate(STATUS_COLOURS.items()):
        rules.append(
            {
                "addConditionalFormatRule": {
                    "index": index,
                    "rule": {
                        "ranges": [_column_range(sheet_id, column)],
                        "booleanRule": {
                            "condition": {
                                "type": "TEXT_EQ",
                                "values": [{"userEnteredValue": status.value}],
                            },
                            "format": {
                                "backgroundColor": {"red": red, "green": green, "blue": blue}
                            },
                        },
                    },
                }
            }
        )
    return rules


def _protect(sheet_id: int, column: int) -> dict[str, Any]:
    return {
        "addProtectedRange": {
            "protectedRange": {
                "range": _column_range(sheet_id, column, first_row=0),
                "description": _PROTECTION_NOTE,
                "warningOnly": True,
            }
        }
    }


def _has_status_colours(tab: dict[str, Any], column: int) -> bool:
    for rule in tab.get("conditionalFormats", []):
        condition = rule.get("booleanRule", {}).get("condition", {})
        on_column = any(r.get("startColumnIndex") == column for r in rule.get("ranges", []))
        if on_column and condition.get("type") == "TEXT_EQ":
            return True
    return False


def _protected_columns(tab: dict[str, Any]) -> set[int]:
    return {
        int(item.get("range", {}).get("startColumnIndex", -1))
        for item in tab.get("protectedRanges", [])
        if item.get("description") == _PROTECTION_NOTE
    }


def overdue_formula(layout: Layout, review_after_days: int) -> str:
    """True on a row whose request is open and older than the deadline (from row 2).

    ``Timestamp`` is ISO text as the project writes it (``2026-11-22T09:30:00Z``)
    or a date a person typed; a cell it cannot read is never overdue. The
    spreadsheet's ``NOW()`` is in its own time zone, so the colour may come a
    few hours early or late against UTC times.
    """
    created = f"${column_letters(layout.columns['timestamp'])}2"
    status = f"TRIM(${column_letters(layout.columns['status'])}2)"
    closed = ", ".join(
        f'{status}<>"{s.value}"' for s in (Status.DONE, Status.REJECTED, Status.INELIGIBLE)
    )
    when = (
        f"IFERROR(IF(ISNUMBER({created}), {created}, "
        f"DATEVALUE(LEFT({created}, 10)) + TIMEVALUE(MID({created}, 12, 8))), NOW())"
    )
    return f"=AND({_OVERDUE_MARK}, LEN({created})>0, {closed}, NOW()-{when}>={review_after_days})"


def _overdue_rule(sheet_id: int, layout: Layout, review_after_days: int) -> dict[str, Any]:
    """Every column of the header but Status (which keeps its own colour)."""
    status = layout.columns["status"]
    spans = [(0, status), (status + 1, max(layout.width, status + 1))]
    red, green, blue = OVERDUE_COLOUR
    return {
        "ranges": [
            {
                "sheetId": sheet_id,
                "startRowIndex": 1,
                "startColumnIndex": start,
                "endColumnIndex": end,
            }
            for start, end in spans
            if end > start
        ],
        "booleanRule": {
            "condition": {
                "type": "CUSTOM_FORMULA",
                "values": [{"userEnteredValue": overdue_formula(layout, review_after_days)}],
            },
            "format": {"backgroundColor": {"red": red, "green": green, "blue": blue}},
        },
    }


def _overdue(
    tab: dict[str, Any], sheet_id: int, layout: Layout, review_after_days: int
) -> dict[str, Any] | None:
    """The request adding the overdue rule (after the others), or mending it; None when in place.

    It mends the rule when the columns moved or the deadline changed.
    """
    if "timestamp" not in layout.columns:
        return None
    wanted = _overdue_rule(sheet_id, layout, review_after_days)
    rules = tab.get("conditionalFormats", [])
    for index, rule in enumerate(rules):
        formula = _formula(rule)
        if _OVERDUE_MARK not in formula:
            continue
        if formula == _formula(wanted) and _spans(rule) == _spans(wanted):
            return None
        return {
            "updateConditionalFormatRule": {"index": index, "sheetId": sheet_id, "rule": wanted}
        }
    return {"addConditionalFormatRule": {"index": len(rules), "rule": wanted}}


def _formula(rule: dict[str, Any]) -> str:
    values = rule.get("booleanRule", {}).get("condition", {}).get("values", [])
    return "".join(str(value.get("userEnteredValue", "")) for value in values)


def _spans(rule: dict[str, Any]) -> list[tuple[int, int, int]]:
    return [
        (
            int(r.get("startRowIndex", 0)),
            int(r.get("startColumnIndex", 0)),
            int(r.get("endColumnIndex", -1)),
        )
        for r in rule.get("ranges", [])
    ]
