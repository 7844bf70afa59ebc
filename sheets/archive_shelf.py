"""The archive port: what moving closed rows out of the queue needs from a store.

:mod:`sheetqueue.worker.archive` decides which rows go and runs copy, verify,
delete; a shelf (the Google Sheet's archive tabs, the SQLite file's archive
table) does each step, always finding rows by Request ID.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sheetqueue.sheets.model import Request

__all__ = ["ARCHIVE_EXTRA_HEADER", "ArchiveShelf", "ArchivedRow"]

ARCHIVE_EXTRA_HEADER = ("Archived At", "Other Columns")
"""Columns an archive tab has after the canonical ones: when, and the team's own cells (JSON)."""


@dataclass(frozen=True)
class ArchivedRow:
    """A row as the live queue and the archive both hold it: the request and team cells."""

    request: Request
    other: tuple[tuple[str, str], ...] = ()  # the team's own columns: (header, cell)

    @property
    def request_id(self) -> str:
        return self.request.request_id.strip()


class ArchiveShelf(Protocol):
    """What archiving needs from a store: its live rows, its archive tabs, a delete by ID."""

    target: str
    """The other spreadsheet holding the archive tabs, or "" (the store's own)."""

    def live_rows(self) -> list[ArchivedRow]:
        """Every row of the live queue (header contract checked), in sheet order."""
        ...

    def archived(self, tab: str) -> dict[str, ArchivedRow]:
        """The rows the archive ``tab`` holds, by Request ID (empty if there is no such tab)."""
        ...

    def copy(self, tab: str, rows: Sequence[ArchivedRow], archived_at: str) -> None:
        """Add ``rows`` at the end of ``tab`` (created when missing) in one write."""
        ...

    def rewrite(self, tab: str, rows: Sequence[ArchivedRow]) -> None:
        """Overwrite the copies of ``rows`` in ``tab``, found by Request ID."""
        ...

    def delete(self, rows: Sequence[ArchivedRow]) -> list[str]:
        """Delete from the live queue the rows that still hold exactly ``rows``; their IDs."""
        ...

    def close(self) -> None: ...
