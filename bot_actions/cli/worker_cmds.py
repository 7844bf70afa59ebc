"""Worker commands: tick (one pass, for cron) and worker (the scheduler)."""

from __future__ import annotations

from typing import Annotated

import structlog
import typer
from filelock import Timeout

from bot_actions.bootstrap import build_worker, utcnow
from bot_actions.cli import app, emit_json, fail
from bot_actions.cli.common import settings_and_store
from config.errors import SheetqueueError, StoreError
from config.logs import configure_logging
from worker.lock import pass_lock
from worker.scheduler import run_scheduled

log = structlog.get_logger("sheetqueue.worker")


@app.command()
def tick(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    wait: Annotated[
        float, typer.Option(help="Seconds to wait for a pass already running to finish.")
    ] = 120.0,
) -> None:
    """Run one worker pass (for cron) and print what it did."""
    try:
        with settings_and_store() as (settings, store):
            worker = build_worker(settings, store)
            try:
                with pass_lock(settings).acquire(timeout=wait):
                    report = worker.run_pass(utcnow())
            except Timeout:
                raise StoreError(
                    "another pass is still running on this store; try again later"
                ) from None
            finally:
                worker.ledger.close()
    except SheetqueueError as error:
        raise fail(error, as_json=as_json) from None
    if as_json:
        emit_json(report.summary())
    else:
        summary = report.summary()
        typer.echo(", ".join(f"{key} {value}" for key, value in summary.items()))
        for problem in report.problems:
            typer.echo(f"  {problem}", err=True)


@app.command("worker")
def worker_command() -> None:
    """Run the scheduled worker until SIGINT/SIGTERM (the pass in flight finishes first)."""
    configure_logging("INFO")
    try:
        with settings_and_store() as (settings, store):
            worker = build_worker(settings, store)
            lock = pass_lock(settings)

            def one_pass() -> None:
                try:
                    with lock.acquire(timeout=0):
                        worker.run_pass(utcnow())
                except Timeout:
                    log.info("tick.skipped", reason="another pass holds the lock")

            try:
                run_scheduled(one_pass, settings.interval_seconds)
            finally:
                worker.ledger.close()
    except SheetqueueError as error:
        raise fail(error) from None
