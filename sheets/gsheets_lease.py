"""The pass lease in a Google Sheet: one cell of a small hidden tab, ``_sheetqueue``.

``A1`` says what the tab is for; ``A2`` holds the lease as one line of JSON
(:class:`~sheetqueue.sheets.lease.LeaseState`). Every change is a
compare-and-set that Sheets itself carries out: a ``spreadsheets.batchUpdate``
with one ``findReplace`` whose ``find`` is the whole text last read (with
``matchEntireCell``). Sheets applies batchUpdates to one spreadsheet one at
a time, so of two workers swapping the same text only the first finds it;
the other's reply says nothing changed, and it reads the lease again. The
serial in the text grows with every change, so an old text never comes back.

The tab is made on first use in one batchUpdate (addSheet with the lease
already in ``A2``): of two workers making it at once, the second is refused
because the title exists, and reads the first one's lease.

Calls: a pass's renewal is 1 call; the first one in a process costs 3 (the
tab's id, the cell, the swap), or 1 when the state file kept the tab's id and
the text this installation last wrote (``kept``: a cron ``tick`` is a new
process each time). A kept text is only what the swap expects to find: if
the cell holds anything else, the swap changes nothing and the cell is read.
An answer lost to a timeout is checked by reading the cell: the text is this
holder's own, with a serial of its own.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

import structlog

from sheetqueue.config.errors import StoreError
from sheetqueue.sheets.gsheets_api import Refused, SheetsApi
from sheetqueue.sheets.gsheets_layout import cell_text, quote_tab
from sheetqueue.sheets.gsheets_retry import Transient
from sheetqueue.sheets.gsheets_tabs import Tabs
from sheetqueue.sheets.kept_entries import KeptEntries
from sheetqueue.sheets.lease import Holder, LeaseState, claim, note_taken

__all__ = ["LEASE_TAB", "GsheetsLease"]

log = structlog.get_logger("sheetqueue.gsheets")

LEASE_TAB = "_sheetqueue"
_LABEL = (
    "sheetqueue pass lease: the worker in A2 runs the passes on this spreadsheet "
    "until its lease expires. Do not edit."
)
_TRIES = 4


class GsheetsLease:
    """The pass lease of one spreadsheet, as seen by ``holder``."""

    def __init__(
        self,
        api: SheetsApi,
        holder: Holder,
        ttl: timedelta,
        *,
        tab: str = LEASE_TAB,
        kept: KeptEntries | None = None,
    ) -> None:
        self.api = api
        self.holder = holder
        self.ttl = ttl
        self.tab = tab
        self._tabs = Tabs(api, log_tab="", orders_tab="")
        self._sheet_id: int | None = None
        self._known: str | None = None  # the text this holder last wrote
        self._kept = kept  # the tab's id and that text, for the next process
        self._loaded = kept is None

    def acquire(self, now: datetime) -> LeaseState:
        self._load()
        for _ in range(_TRIES):
            sheet_id = self._locate()
            if sheet_id is None:
                taken = claim(LeaseState.free(), self.holder, now, self.ttl)
                if self._create(taken.text(), replacing=None):
                    note_taken(LeaseState.free(), taken)
                    return self._took(taken)
                continue
            held = self._known is not None
            text = self._known if self._known is not None else self._read()
            previous = LeaseState.parse(text)
            taken = claim(previous, self.holder, now, self.ttl)
            if text.strip():
                won = self._swap(sheet_id, text, taken.text())
            else:  # a cleared cell cannot be found: make the tab again, as one batch
                won = self._create(taken.text(), replacing=sheet_id)
            if won:
                if not held:
                    note_taken(previous, taken)
                return self._took(taken)
            self._keep(None)  # the cell changed: read it, and keep nothing until it is ours
        raise StoreError(
            f"the pass lease in tab {self.tab!r} kept changing while this worker took it; "
            "the next pass tries again"
        )

    def release(self) -> None:
        if self._known is None or self._sheet_id is None:
            return
        free = LeaseState.free(LeaseState.parse(self._known).serial + 1)
        try:
            self._swap(self._sheet_id, self._known, free.text())
        except StoreError as exc:  # it expires by itself
            log.warning("lease.release_failed", error=str(exc))
        self._keep(None)

    def peek(self) -> LeaseState:
        if self._locate() is None:
            return LeaseState.free()
        return LeaseState.parse(self._read())

    # -- the calls --------------------------------------------------------------

    def _took(self, taken: LeaseState) -> LeaseState:
        self._keep(taken.text())
        return taken

    def _keep(self, text: str | None) -> None:
        """The text this holder last wrote (None: none now), in the state file too if kept."""
        self._known = text
        if self._kept is None:
            return
        if text is not None and self._sheet_id is not None:
            self._kept.save(self.tab, {"sheet_id": self._sheet_id, "text": text})
        else:
            self._kept.drop(self.tab)

    def _load(self) -> None:
        """The tab's id and the text this holder last wrote, as an earlier process kept them."""
        if self._loaded:
            return
        self._loaded = True
        assert self._kept is not None
        entry = self._kept.load(self.tab)
        if entry is None:
            return
        try:
            sheet_id, text = int(entry["sheet_id"]), str(entry["text"])
        except (KeyError, TypeError, ValueError):
            return
        holder = LeaseState.parse(text).holder
        if holder is not None and holder.token == self.holder.token:
            self._sheet_id, self._known = sheet_id, text

    def _locate(self) -> int | None:
        if self._sheet_id is None:
            found = self._tabs.properties(self.tab)
            self._sheet_id = int(found["sheetId"]) if found is not None else None
        return self._sheet_id

    def _read(self) -> str:
        try:
            values = self.api.get(f"{quote_tab(self.tab)}!A2")
        except Refused:  # the tab went away: find it again
            self._sheet_id = None
            return ""
        return cell_text(values[0][0]) if values and values[0] else ""

    def _holds(self, text: str) -> bool:
        """After a lost answer: whether the cell now holds ``text`` (ours)."""
        self._sheet_id = None
        return self._locate() is not None and self._read() == text

    def _swap(self, sheet_id: int, old: str, new: str) -> bool:
        cell = {
            "sheetId": sheet_id,
            "startRowIndex": 1,
            "endRowIndex": 2,
            "startColumnIndex": 0,
            "endColumnIndex": 1,
        }
        request = {
            "findReplace": {
                "find": old,
                "replacement": new,
                "matchCase": True,
                "matchEntireCell": True,
                "searchByRegex": False,
                "includeFormulas": False,
                "range": cell,
            }
        }
        try:
            answer = self.api.structure([request])
        except Transient:
            return self._holds(new)
        except Refused:
            self._sheet_id = None
            return False
        reply = (answer.get("replies") or [{}])[0].get("findReplace", {})
        return int(reply.get("occurrencesChanged", 0)) == 1

    def _create(self, text: str, *, replacing: int | None) -> bool:
        sheet_id = secrets.randbelow(2**31 - 2) + 1
        requests: list[dict[str, Any]] = []
        if replacing is not None:
            requests.append({"deleteSheet": {"sheetId": replacing}})
        grid = {"rowCount": 2, "columnCount": 1}
        requests += [
            {
                "addSheet": {
                    "properties": {
                        "sheetId": sheet_id,
                        "title": self.tab,
                        "hidden": True,
                        "gridProperties": grid,
                    }
                }
            },
            {
                "updateCells": {
                    "start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": 0},
                    "rows": [{"values": [_string(_LABEL)]}, {"values": [_string(text)]}],
                    "fields": "userEnteredValue",
                }
            },
        ]
        try:
            self.api.structure(requests)
        except Transient:
            return self._holds(text)
        except Refused:  # another worker made (or remade) it first
            self._sheet_id = None
            return False
        self._sheet_id = sheet_id
        log.info("lease.tab_created", tab=self.tab)
        return True


def _string(text: str) -> dict[str, Any]:
    return {"userEnteredValue": {"stringValue": text}}
