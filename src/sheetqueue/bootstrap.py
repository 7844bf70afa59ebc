"""The composition root: the real store, order source, notifiers, clock and API from settings.

The command line calls these; tests build the same parts with their own
settings (a SQLite file in a temporary folder, the Sheets emulator's URL) or
hand in their own. Nothing here runs at import time, and nothing below this
module builds a real adapter by itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sheetqueue.config.clock import Clock, utc_now
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.lease import PassLease, SqliteLease, holder_for_state, lease_ttl
from sheetqueue.sheets.order_sources import open_order_source
from sheetqueue.sheets.outbox import open_outbox
from sheetqueue.sheets.store import Store
from sheetqueue.worker.ledger import Ledger
from sheetqueue.worker.metrics import Metrics
from sheetqueue.worker.notify.factory import notifiers_from_settings
from sheetqueue.worker.tick import Worker

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["build_api", "build_worker", "open_lease", "open_store"]


API_READ_TIMEOUT = 10.0
"""Seconds the API's own Sheets reads may take (a bot's answer never waits that long)."""
CLI_READ_TIMEOUT = 2.5
"""Seconds the ``lookup`` and ``eligibility`` commands wait for Sheets before using the copy."""


def open_store(
    settings: Settings, metrics: Metrics | None = None, *, read_timeout: float | None = None
) -> Store:
    """The queue the settings point at: the SQLite file or the Google Sheet.

    ``read_timeout``: for a bot's reads, each Sheets call times out within it and
    is tried once (the answer falls back to the last good copy of the orders).
    """
    if settings.backend == "gsheets":
        from sheetqueue.sheets.gsheets_retry import Backoff
        from sheetqueue.sheets.gsheets_store import GsheetsStore  # gspread only when used

        hook = metrics.sheets_hook() if metrics is not None else None
        alert = None
        if metrics is not None:
            alert = lambda reason: metrics.inc("sheetqueue_sheet_alerts_total", reason=reason)  # noqa: E731
        if read_timeout is None:
            return GsheetsStore.from_settings(settings, on_call=hook, on_alert=alert)
        timeout = min(settings.sheets_timeout_seconds, read_timeout)
        return GsheetsStore.from_settings(
            settings.model_copy(update={"sheets_timeout_seconds": timeout}),
            backoff=Backoff(max_tries=1),
            on_call=hook,
            on_alert=alert,
        )
    from sheetqueue.sheets.sqlite_store import SqliteStore

    return SqliteStore(settings.local_path)


def build_worker(
    settings: Settings, store: Store, metrics: Metrics | None = None, *, clock: Clock = utc_now
) -> Worker:
    """The worker with the real ledger, order source, notifiers and the outbox it drains."""
    return Worker(
        store=store,
        order_source=lambda: open_order_source(settings, store),
        notifiers=notifiers_from_settings(settings, clock=clock),
        ledger=Ledger(settings.state_path),
        settings=settings,
        metrics=metrics,
        outbox=open_outbox(settings),
        lease=open_lease(settings, store),
    )


def open_lease(settings: Settings, store: Store) -> PassLease | None:
    """The pass lease kept in the store, held by this installation (its state file).

    None for a store that is neither the sheet nor the local file (a test's own).
    """
    holder = holder_for_state(settings.state_path)
    ttl = lease_ttl(settings.interval_seconds, settings.lease_seconds)
    if settings.backend == "gsheets":
        from sheetqueue.sheets.gsheets_lease import GsheetsLease
        from sheetqueue.sheets.gsheets_store import GsheetsStore

        return GsheetsLease(store.api, holder, ttl) if isinstance(store, GsheetsStore) else None
    return SqliteLease(settings.local_path, holder, ttl)


def build_api(
    settings: Settings, metrics: Metrics, *, clock: Clock = utc_now, **options: Any
) -> FastAPI:
    """The bot-facing HTTP API on the store and order data the settings name.

    ``options`` go to :func:`~sheetqueue.bot_actions.api.create_app` (tests shorten ages).
    """
    from sheetqueue.bot_actions.api import create_app  # FastAPI only when serving

    return create_app(
        settings,
        store_opener=lambda: open_store(settings, metrics),
        outbox=open_outbox(settings),
        reads_opener=lambda: open_store(settings, metrics, read_timeout=API_READ_TIMEOUT),
        metrics=metrics,
        clock=clock,
        **options,
    )
