"""``sheetqueue archive`` and the worker's optional archive step, on one store.

The archive run takes the same pass lock and lease as a worker pass (it
rewrites the queue), so it never runs beside a pass of the same store.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from filelock import Timeout

from sheetqueue.bootstrap import open_lease, open_shelf
from sheetqueue.config.errors import StoreError
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.store import Store
from sheetqueue.worker.archive import ArchiveReport, archive_closed
from sheetqueue.worker.lock import pass_lock

__all__ = ["ARCHIVE_EVERY", "Archiver", "run_archive"]

log = structlog.get_logger("sheetqueue.archive")

ARCHIVE_EVERY = timedelta(hours=6)
"""How often the worker's schedule archives (``archive_closed_after_days`` set)."""


def run_archive(
    settings: Settings,
    store: Store,
    now: datetime,
    closed_for: timedelta,
    *,
    dry_run: bool = False,
    batch: int = 500,
    wait: float = 120.0,
) -> ArchiveReport:
    """Archive the store's rows closed before ``now - closed_for``, under its pass lock."""
    shelf = open_shelf(settings, store)
    try:
        with pass_lock(settings).acquire(timeout=wait):
            if not dry_run:
                lease = open_lease(settings, store)
                if lease is not None:
                    lease.acquire(now)
            return archive_closed(
                shelf, store, now, closed_for, zone=settings.zone, dry_run=dry_run, batch=batch
            )
    except Timeout:
        raise StoreError("a worker pass is still running on this store; try again later") from None
    finally:
        shelf.close()


class Archiver:
    """The worker's archive step: at most every :data:`ARCHIVE_EVERY`, when the setting is on."""

    def __init__(self) -> None:
        self._last: dict[str, datetime] = {}

    def maybe(self, key: str, settings: Settings, store: Store, now: datetime) -> None:
        days = settings.archive_closed_after_days
        if days is None:
            return
        last = self._last.get(key)
        if last is not None and now - last < ARCHIVE_EVERY:
            return
        self._last[key] = now
        report = run_archive(settings, store, now, timedelta(days=days), wait=0)
        log.info("archive.scheduled", key=key, archived=report.archived, tabs=report.tabs)
