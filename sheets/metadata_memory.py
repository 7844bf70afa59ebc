"""The queue tab's metadata remembered between reads, and between processes.

A read of the queue tab needs the header contract's tags and the merged
cells (a metadata call) before its values make sense. :class:`MetadataMemory`
keeps the last metadata the reader read afresh, with row 1 as it read then,
so the next read can go straight to the values: the reader uses it only when
row 1 reads exactly as it did (:meth:`Known.same_header`), and before a write
it checks the metadata still holds (:meth:`MetadataMemory.confirm`).

With :attr:`MetadataMemory.kept` (the worker's state file,
:class:`~sheetqueue.sheets.kept_entries.KeptEntries`) what is read afresh is
kept for the next process too (a cron ``tick``), with the spreadsheet's locale
and time zone, and looked up once in a process, on the same terms. An entry
that cannot be used is ignored (a log line): the metadata is read afresh.

This holds no connection: the reader does the calls and hands over what it read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from sheetqueue.config.errors import StoreError
from sheetqueue.sheets.gsheets_header import TabTags, find_queue_tab, read_tabs
from sheetqueue.sheets.kept_entries import KeptEntries
from sheetqueue.sheets.sheet_cells import SheetCells

__all__ = ["KeptEntry", "Known", "MetadataMemory"]

log = structlog.get_logger("sheetqueue.gsheets")


@dataclass(frozen=True)
class Known:
    """The queue tab's metadata as last read, and row 1 as read with it."""

    tab: TabTags
    header: list[tuple[type, Any]]  # row 1's cells, each with its type

    @property
    def usable(self) -> bool:
        """True unless an alert is up on the tab (a read then reads the metadata again)."""
        return self.tab.alert is None

    def same_header(self, row: Sequence[Any]) -> bool:
        """True when ``row`` (row 1 read now) is exactly row 1 as read with this metadata."""
        return _cells_of(row) == self.header


@dataclass(frozen=True)
class KeptEntry:
    """What an earlier process kept, made usable: the metadata, the locale and zone, the title."""

    known: Known
    cells: SheetCells
    title: str


class MetadataMemory:
    """The metadata of one queue tab, kept from the last read (and in ``kept``, when set).

    ``found``: told of every metadata answer taken from ``kept`` (the Summary
    tab learns the spreadsheet's tabs from it, as from an answer read now).
    """

    def __init__(self, requests_tab: str, found: Callable[[dict[str, Any]], None]) -> None:
        self.requests_tab = requests_tab
        self._found = found
        self.known: Known | None = None  # the last metadata read, kept for the next read
        self.kept: KeptEntries | None = None  # where the metadata is kept between processes
        self._kept_loaded = False  # the kept entry was looked up (once a process)
        self._kept_tabs: Any = None  # the tabs of the answer last kept (or loaded)

    def load(self, title: str) -> KeptEntry | None:
        """The entry an earlier process kept, now known here; None: none, or read afresh.

        Looked up once a process, and only while nothing newer is known.
        ``title``: the spreadsheet's title as known, for an entry without one.
        """
        kept = self.kept
        if self.known is not None or kept is None or self._kept_loaded:
            return None
        self._kept_loaded = True
        entry = kept.load(self.requests_tab)
        if entry is None:
            return None
        try:
            answer, header = entry["answer"], entry["header"]
            if not isinstance(answer, dict) or not isinstance(header, list):
                raise TypeError("not an answer and a row")
            tab = find_queue_tab(read_tabs(answer), self.requests_tab)
            zone = {"locale": entry.get("locale", ""), "timeZone": entry.get("time_zone", "")}
            cells = SheetCells.from_properties({"properties": zone})
            title = str(answer.get("properties", {}).get("title", title))
            self._found(answer)
        except Exception as exc:  # a corrupt entry is not used, whatever it holds
            log.warning("sheet.kept_metadata_ignored", tab=self.requests_tab, error=repr(exc))
            return None
        self._kept_tabs = answer.get("sheets")
        self.known = Known(tab, _cells_of(header))
        return KeptEntry(self.known, cells, title)

    def clear(self) -> None:
        """Nothing is known until the next fresh read (one is under way)."""
        self.known = None

    def forget(self) -> None:
        """Our own structure write (tags, columns, notes, formats, rows deleted): read it afresh."""
        self.known = None
        self._kept_loaded = True  # what an earlier process kept is older still
        if self.kept is not None:
            self.kept.drop(self.requests_tab)

    def read_afresh(
        self, tab: TabTags, answer: dict[str, Any], header: list[Any], cells: SheetCells | None
    ) -> None:
        """A fresh read's metadata ``answer`` and row 1: known now, kept when no alert is up."""
        self.known = Known(tab, _cells_of(header))
        self._kept_loaded = True  # read now: newer than any entry kept before
        if self.kept is not None and tab.alert is None:
            self._keep(self.kept, answer, header, cells)

    def take(self) -> Known | None:
        """What is known, no longer known until :meth:`confirm` says it still holds."""
        known, self.known = self.known, None
        return known

    def confirm(
        self, known: Known | None, answer: dict[str, Any], cells: SheetCells | None
    ) -> bool:
        """True when the metadata ``answer`` read now finds the queue's tab just as ``known``.

        It is then known again (and kept anew when the other tabs changed);
        otherwise the kept entry is dropped and False says nothing may be written.
        """
        try:
            tab: TabTags | None = find_queue_tab(read_tabs(answer), self.requests_tab)
        except StoreError:  # a HeaderProblem too: the fresh read that follows says it
            tab = None
        if known is not None and tab == known.tab:
            self.known = known
            if self.kept is not None and answer.get("sheets") != self._kept_tabs:
                header = [cell for _, cell in known.header]
                self._keep(self.kept, answer, header, cells)  # other tabs
            return True
        log.warning("sheet.changed_since_read", tab=self.requests_tab, action="nothing written")
        if self.kept is not None:
            self.kept.drop(self.requests_tab)
        return False

    def _keep(
        self,
        kept: KeptEntries,
        answer: dict[str, Any],
        header: list[Any],
        cells: SheetCells | None,
    ) -> None:
        """Keep a metadata answer read afresh, with row 1 and the locale, for the next process."""
        cells = cells or SheetCells()
        entry = {"answer": answer, "header": header, "locale": cells.locale}
        kept.save(self.requests_tab, {**entry, "time_zone": cells.time_zone})
        self._kept_tabs = answer.get("sheets")


def _cells_of(row: Sequence[Any]) -> list[tuple[type, Any]]:
    """A row's cells with their types: ``1`` and ``True`` (or ``"1"``) are not the same cell."""
    return [(type(cell), cell) for cell in row]
