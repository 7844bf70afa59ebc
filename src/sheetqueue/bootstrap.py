"""The composition root: the real store, order source, notifiers, clock and API from settings.

The command line calls these; tests build the same parts with their own
settings (a SQLite file in a temporary folder, the Sheets emulator's URL) or
hand in their own. Nothing here runs at import time, and nothing below this
module builds a real adapter by itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sheetqueue.config.clock import Clock, utc_now
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.order_sources import open_order_source
from sheetqueue.sheets.store import Store
from sheetqueue.worker.ledger import Ledger
from sheetqueue.worker.metrics import Metrics
from sheetqueue.worker.notify.factory import notifiers_from_settings
from sheetqueue.worker.tick import Worker

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["build_api", "build_worker", "open_store"]


def open_store(settings: Settings, metrics: Metrics | None = None) -> Store:
    """The queue the settings point at: the SQLite file or the Google Sheet."""
    if settings.backend == "gsheets":
        from sheetqueue.sheets.gsheets_store import GsheetsStore  # gspread only when used

        hook = metrics.sheets_hook() if metrics is not None else None
        alert = None
        if metrics is not None:
            alert = lambda reason: metrics.inc("sheetqueue_sheet_alerts_total", reason=reason)  # noqa: E731
        return GsheetsStore.from_settings(settings, on_call=hook, on_alert=alert)
    from sheetqueue.sheets.sqlite_store import SqliteStore

    return SqliteStore(settings.local_path)


def build_worker(
    settings: Settings, store: Store, metrics: Metrics | None = None, *, clock: Clock = utc_now
) -> Worker:
    """The worker with the real ledger, order source and notifiers."""
    return Worker(
        store=store,
        order_source=lambda: open_order_source(settings, store),
        notifiers=notifiers_from_settings(settings, clock=clock),
        ledger=Ledger(settings.state_path),
        settings=settings,
        metrics=metrics,
    )


def build_api(settings: Settings, metrics: Metrics, *, clock: Clock = utc_now) -> FastAPI:
    """The bot-facing HTTP API on the store and order data the settings name."""
    from sheetqueue.bot_actions.api import create_app  # FastAPI only when serving

    return create_app(
        settings,
        store_opener=lambda: open_store(settings, metrics),
        orders_opener=lambda store: open_order_source(settings, store),
        metrics=metrics,
        clock=clock,
    )
