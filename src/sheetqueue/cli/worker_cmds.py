"""Worker commands: tick (one pass, for cron) and worker (the scheduler)."""

from __future__ import annotations

from typing import Annotated

import typer

from sheetqueue.bootstrap import build_worker
from sheetqueue.cli import app, emit_json, fail
from sheetqueue.cli.common import settings_and_store
from sheetqueue.config.clock import utc_now
from sheetqueue.config.errors import SheetqueueError, StoreError
from sheetqueue.config.logs import configure_logging
from sheetqueue.worker.lock import pass_lock
from sheetqueue.worker.scheduler import run_scheduled
from sheetqueue.worker.tick import tick as run_tick


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
                report = run_tick(worker, utc_now(), pass_lock(settings), wait=wait)
            finally:
                worker.close()
            if report is None:
                raise StoreError("another pass is still running on this store; try again later")
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
            try:
                run_scheduled(
                    lambda: run_tick(worker, utc_now(), lock),
                    settings.interval_seconds,
                    clock=utc_now,
                )
                if worker.lease is not None:  # a clean stop hands the queue over at once
                    worker.lease.release()
            finally:
                worker.close()
    except SheetqueueError as error:
        raise fail(error) from None
