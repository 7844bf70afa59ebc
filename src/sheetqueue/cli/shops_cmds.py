"""Many shops (``SHEETQUEUE_SHOPS``): ``shops``, and ``tick``/``worker`` over every shop."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from sheetqueue.cli import app, emit_json, fail
from sheetqueue.cli.common import JsonDocFlag, console
from sheetqueue.config.clock import utc_now
from sheetqueue.config.errors import ConfigError, SheetqueueError
from sheetqueue.config.loading import load_settings
from sheetqueue.config.logs import configure_logging
from sheetqueue.config.shops import Shops
from sheetqueue.shops import ShopOutcome, ShopPasses, last_pass, open_counts, shops_from_settings
from sheetqueue.shops import totals as add_up

__all__ = ["shops_tick", "shops_worker"]


def _shops(as_json: bool = False) -> Shops | None:
    try:
        return shops_from_settings(load_settings())
    except SheetqueueError as error:
        raise fail(error, as_json=as_json) from None


def shops_tick(as_json: bool, wait: float) -> bool:
    """``tick`` with a shops file: one pass of each shop; False without one."""
    shops = _shops(as_json)
    if shops is None:
        return False
    outcomes = ShopPasses(shops, clock=utc_now).run(wait=wait)
    failed = [outcome for outcome in outcomes if not outcome.ok]
    if as_json:
        emit_json({**add_up(outcomes), "shops": [outcome.document() for outcome in outcomes]})
    else:
        for outcome in outcomes:
            typer.echo(_line(outcome))
    if failed:
        names = ", ".join(outcome.name for outcome in failed)
        typer.echo(f"error: {len(failed)} of {len(outcomes)} shops failed: {names}", err=True)
        raise typer.Exit(1)
    return True


def _line(outcome: ShopOutcome) -> str:
    if outcome.error:
        return f"{outcome.name}: failed: {outcome.error}"
    if outcome.waiting:
        return f"{outcome.name}: not passed: {outcome.waiting}"
    return f"{outcome.name}: " + ", ".join(f"{k} {v}" for k, v in outcome.summary.items())


def shops_worker() -> bool:
    """``worker`` with a shops file: every shop each interval until SIGTERM; False without one."""
    from sheetqueue.worker.scheduler import run_scheduled

    shops = _shops()
    if shops is None:
        return False
    configure_logging("INFO")
    passes = ShopPasses(shops, clock=utc_now)
    interval = min(shop.settings.interval_seconds for shop in shops.shops)
    run_scheduled(passes.run, interval, clock=utc_now)
    passes.release()
    return True


@app.command("shops")
def shops_command(
    as_json: JsonDocFlag = False,
) -> None:
    """List the shops of SHEETQUEUE_SHOPS with their last pass and open requests."""
    shops = _shops(as_json)
    if shops is None:
        raise fail(
            ConfigError("SHEETQUEUE_SHOPS: not set; name the shops file to list its shops"),
            as_json=as_json,
        )
    rows: list[dict[str, Any]] = []
    for shop in shops.shops:
        seen = last_pass(shop.settings)
        statuses = seen.get("statuses") or {}
        rows.append(
            {
                "shop": shop.name,
                "store_name": shop.settings.store_name,
                "backend": shop.settings.backend,
                "where": shop.where,
                "last_pass": seen.get("last_pass"),
                "last_attempt": seen.get("last_attempt"),
                "error": seen.get("error"),
                "open": open_counts(statuses),
                "open_total": sum(open_counts(statuses).values()),
            }
        )
    if as_json:
        emit_json(rows)
        return
    table = Table(title=f"Shops ({shops.path})")
    for header in ("Shop", "Store", "Last pass", "Open", "By status", "Last error"):
        table.add_column(header, overflow="fold")
    for row in rows:
        by_status = ", ".join(f"{k} {v}" for k, v in row["open"].items())
        table.add_row(
            row["shop"],
            row["where"],
            row["last_pass"] or "never",
            str(row["open_total"]) if row["last_pass"] else "-",
            by_status,
            row["error"] or "",
        )
    console.print(table)
