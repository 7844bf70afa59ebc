"""``sheetqueue replay``: what a changed policy would decide, beside what was decided."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from sheetqueue.cli import app, emit_json, fail
from sheetqueue.cli.common import JsonFlag, ShopFlag, console, settings_and_store
from sheetqueue.config.clock import utc_now
from sheetqueue.config.errors import InputError, SheetqueueError
from sheetqueue.sheets.order_sources import open_order_source
from sheetqueue.sheets.orders import Order
from sheetqueue.worker.replay import ReplayReport, load_policy_file, replay


@app.command("replay")
def replay_policy(
    policy: Annotated[Path, typer.Option("--policy", help="A TOML file with a [policy] table.")],
    since: Annotated[
        int | None, typer.Option("--since", help="Only requests asked in the last DAYS days.")
    ] = None,
    as_json: JsonFlag = False,
    shop: ShopFlag = None,
) -> None:
    """Decide the queue again under another policy and show what would change; writes nothing."""
    try:
        if since is not None and since < 0:
            raise InputError("--since: must be 0 or more days")
        trial = load_policy_file(policy)
        with settings_and_store(shop) as (settings, store):
            rows = [stored.request for stored in store.read_requests()]
            source = open_order_source(settings, store)
            seen: dict[tuple[str, str], Order | None] = {}

            def find(order_id: str, email: str) -> Order | None:
                key = (order_id.strip().lower(), email.strip().lower())
                if key not in seen:
                    seen[key] = source.get(order_id, email)
                return seen[key]

            report = replay(rows, find, trial, utc_now(), since_days=since, zone=settings.zone)
    except SheetqueueError as error:
        raise fail(error, as_json=as_json) from None
    if as_json:
        emit_json(report.as_json())
        return
    _print(report)


def _print(report: ReplayReport) -> None:
    console.print(
        f"{report.requests} requests decided again: {report.unchanged} unchanged, "
        f"{report.changed} would change"
        + (f", {report.unreadable} with an unreadable order" if report.unreadable else ""),
        highlight=False,
    )
    if not report.flips:
        return
    changes = Table(title="Changes", expand=False)
    for header in ("Decided", "Would be", "Requests"):
        changes.add_column(header)
    for item in report.as_json()["changes"]:
        changes.add_row(escape(item["from"]), escape(item["to"]), str(item["count"]))
    console.print(changes)
    rows = Table(title="Requests that flip", expand=False)
    for header in ("Request ID", "Type", "Order ID", "Decided", "Would be"):
        rows.add_column(header, overflow="fold")
    for flip in report.flips:
        values = (flip.request_id, flip.type, flip.order_id, flip.was, flip.would_be)
        rows.add_row(*(escape(value) for value in values))
    console.print(rows)
