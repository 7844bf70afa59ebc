"""Adding rows to the queue tab: the duplicate check, one append, and where the rows landed.

The rows a read of the queue already holds (the same Request ID, or an open
request for the same shopper, order and type) are not added again. The new
ones go in one ``values.append`` anchored at the last row whose first cell
is filled; its answer says where they landed: not in column A is an error,
another row than expected a warning. An append whose answer is lost is not tried again here (it may
still land): it raises :class:`LandingUnknown` for the outbox to wait out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import structlog

from sheetqueue.config.errors import StoreError
from sheetqueue.sheets.gsheets_api import SheetsApi
from sheetqueue.sheets.gsheets_layout import Layout, quote_tab
from sheetqueue.sheets.gsheets_read import last_row, table_end
from sheetqueue.sheets.gsheets_retry import Transient
from sheetqueue.sheets.model import Request
from sheetqueue.sheets.store import AddResult, LandingUnknown

__all__ = ["add_new"]

log = structlog.get_logger("sheetqueue.gsheets")

_LANDED_AT = re.compile(r"!([A-Z]+)(\d+)")


def add_new(
    api: SheetsApi,
    tab: str,
    layout: Layout,
    values: list[list[Any]],
    requests: Sequence[Request],
    sent: set[str],
) -> AddResult:
    """Append the requests ``values`` (the queue as text) does not hold yet, in one call.

    ``sent``: the Request IDs an earlier try of this add sent; one found in the
    sheet now counts as created by this add.
    """
    by_id: dict[str, Request] = {}
    open_by_key: dict[tuple[str, str, str], Request] = {}
    for row in values[1:]:
        _index(layout.request_of(row), by_id, open_by_key)
    stored: list[Request] = []
    created: list[bool] = []
    new: list[Request] = []
    for request in requests:
        key = request.duplicate_key()
        existing = by_id.get(request.request_id) if request.request_id else None
        if existing is None and key is not None:
            existing = open_by_key.get(key)
        if existing is not None:
            stored.append(existing)
            created.append(bool(request.request_id) and request.request_id in sent)
            continue
        new.append(request)
        _index(request, by_id, open_by_key)
        stored.append(request)
        created.append(True)
    if new:
        sent.update(request.request_id for request in new if request.request_id)
        answer = _append(api, tab, [layout.row_of(r) for r in new], last_row(values))
        _check_landing(tab, answer, table_end(values))
    return AddResult(stored, created)


def _append(api: SheetsApi, tab: str, rows: list[list[str]], last_row: int) -> dict[str, Any]:
    """One append after the table at ``last_row``; a lost answer is :class:`LandingUnknown`.

    The append is anchored at the last row with a first cell the read saw,
    not at row 1: a blank row the team left inside the queue would end the
    table there, and an ``INSERT_ROWS`` append into it would push every row
    below down one, under another process's check-then-write of those rows.
    """
    try:
        return api.append(f"{quote_tab(tab)}!A{last_row}", rows)
    except Transient as exc:
        if exc.maybe_applied:
            raise LandingUnknown(
                f"{exc}: the rows may still land; look their Request IDs up "
                "before sending them again"
            ) from exc
        raise


def _check_landing(tab: str, answer: Mapping[str, Any], expected_row: int) -> None:
    landed = str(answer.get("updates", {}).get("updatedRange", ""))
    match = _LANDED_AT.search(landed)
    if match is None:
        raise StoreError(f"the Sheets API did not say where the new rows went ({landed!r})")
    if match.group(1) != "A":
        raise StoreError(
            f"new rows landed at {landed}, not in column A: check {tab!r} "
            "for a stray table left of the header"
        )
    if int(match.group(2)) != expected_row:
        log.warning("sheet.append_moved", tab=tab, landed=landed, expected=expected_row)


def _index(
    request: Request | None,
    by_id: dict[str, Request],
    open_by_key: dict[tuple[str, str, str], Request],
) -> None:
    if request is None:
        return
    if request.request_id:
        by_id.setdefault(request.request_id, request)
    key = request.duplicate_key()
    if key is not None and request.is_open():
        open_by_key.setdefault(key, request)
