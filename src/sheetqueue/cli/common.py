"""Helpers every command shares: settings, the store, tables."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sheetqueue.bootstrap import open_store
from sheetqueue.config.loading import load_settings
from sheetqueue.config.logs import configure_logging
from sheetqueue.config.settings import Settings
from sheetqueue.preflight import check_settings
from sheetqueue.sheets.model import LogEntry, Request
from sheetqueue.sheets.store import Store
from sheetqueue.shops import shop_settings

__all__ = [
    "JsonDocFlag",
    "JsonFlag",
    "PassWait",
    "ShopFlag",
    "console",
    "log_table",
    "queue_table",
    "settings_and_store",
    "shop_settings_of",
    "status_style",
]

console = Console()

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
JsonDocFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
ShopFlag = Annotated[
    str | None,
    typer.Option(
        "--shop",
        metavar="NAME",
        help="The shop of SHEETQUEUE_SHOPS to act on (required with a shops file).",
    ),
]
PassWait = Annotated[
    float, typer.Option(help="Seconds to wait for a pass already running to finish.")
]

_STYLES = {
    "Pending": "yellow",
    "Eligible": "green",
    "Needs Review": "magenta",
    "Ineligible": "red",
    "Approved": "cyan",
    "In Progress": "cyan",
    "Done": "bold green",
    "Rejected": "bold red",
}


def status_style(status: str) -> str:
    return _STYLES.get(status, "white")


def shop_settings_of(shop: str | None) -> Settings:
    """The settings a per-shop command acts with: ``--shop``'s with a shops file, else the base."""
    settings = shop_settings(load_settings(), shop)
    if settings.log_level:
        configure_logging(settings.log_level)
    return settings


@contextmanager
def settings_and_store(
    shop: str | None,
    read_timeout: float | None = None,
    *,
    preflight: bool = False,
) -> Iterator[tuple[Settings, Store]]:
    """Load the settings (of ``shop`` with a shops file), open the store, close it at the end.

    ``read_timeout``: a store for quick reads (see :func:`sheetqueue.bootstrap.open_store`).
    ``preflight``: check every setting first (:func:`sheetqueue.preflight.check_settings`).
    """
    settings = shop_settings_of(shop)
    if preflight:
        check_settings(settings)
    store = open_store(settings, read_timeout=read_timeout)
    try:
        yield settings, store
    finally:
        store.close()


def queue_table(requests: Sequence[Request], *, title: str = "Requests") -> Table:
    """The queue as a terminal table, readable at 80 columns.

    The type goes under the Request ID and the note under the decision, so the
    one column that wraps (the decision and its note) gets every spare column.
    """
    table = Table(title=title, show_lines=True, expand=False)
    table.add_column("Request / type", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("Order ID", no_wrap=True)
    table.add_column("Decision / Worker Note", overflow="fold", ratio=1, min_width=20)
    for request in requests:
        decided = "\n".join(part for part in (request.decision, request.worker_note) if part)
        table.add_row(
            f"{request.request_id}\n[dim]{request.type}[/]",
            f"[{status_style(request.status)}]{request.status or 'Pending'}[/]",
            request.order_id,
            decided,
            style=None,
        )
    return table


def log_table(entries: Sequence[LogEntry], *, title: str = "Log") -> Table:
    """The audit log as a terminal table, readable at 80 columns.

    Who made the change goes under its time and the change under the Request
    ID, so the two never-cut columns stay as wide as a time and an ID and the
    note gets every spare column. A long editor name wraps under the time; an
    ID is never cut.
    """
    table = Table(title=title, show_lines=True, expand=False)
    table.add_column("Time / by", overflow="fold", min_width=20, max_width=24)
    table.add_column("Request / change", no_wrap=True)
    table.add_column("Note", overflow="fold", ratio=1, min_width=20)
    for entry in entries:
        change = f"{escape(entry.from_status)}\n-> [{status_style(entry.to_status)}]"
        table.add_row(
            f"{escape(entry.time)}\n[dim]{escape(entry.by)}[/]",
            f"{escape(entry.request_id)}\n{change}{escape(entry.to_status)}[/]",
            escape(entry.note),
        )
    return table
