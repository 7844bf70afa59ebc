"""Worker commands: tick (one pass, for cron), worker (the scheduler), adopt (first sight)."""

from __future__ import annotations

from typing import Annotated

import typer
from filelock import Timeout

from sheetqueue.archiving import Archiver
from sheetqueue.bootstrap import build_worker, store_probe
from sheetqueue.cli import app, emit_json, fail
from sheetqueue.cli.common import JsonDocFlag, PassWait, ShopFlag, settings_and_store
from sheetqueue.cli.shops_cmds import shops_tick, shops_worker
from sheetqueue.config.clock import utc_now
from sheetqueue.config.errors import InputError, SheetqueueError, StoreError
from sheetqueue.config.logs import configure_logging
from sheetqueue.config.settings import Settings
from sheetqueue.worker.health import HealthServer, Readiness, watch_outbox
from sheetqueue.worker.lock import pass_lock
from sheetqueue.worker.metrics import Metrics
from sheetqueue.worker.tick import PassReport, Worker
from sheetqueue.worker.tick import tick as run_tick


@app.command()
def tick(
    as_json: JsonDocFlag = False,
    wait: PassWait = 120.0,
) -> None:
    """Run one worker pass (for cron) and print what it did (each shop's, with SHEETQUEUE_SHOPS)."""
    if shops_tick(as_json, wait):
        return
    try:
        with settings_and_store(None, preflight=True) as (settings, store):
            worker = build_worker(settings, store)
            try:
                report = run_tick(worker, utc_now(), pass_lock(settings), wait=wait)
            finally:
                worker.close()
            if report is None:
                raise StoreError(
                    "another pass is still running on this store; try again later"
                ) from None
    except SheetqueueError as error:
        raise fail(error, as_json=as_json) from None
    if as_json:
        emit_json(report.summary())
    else:
        summary = report.summary()
        typer.echo(", ".join(f"{key} {value}" for key, value in summary.items()))
        if report.adopted:
            typer.echo(f"  adopted as history (not notified): {_counts(report.adopted)}", err=True)
        for problem in report.problems:
            typer.echo(f"  {problem}", err=True)


@app.command()
def adopt(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would be adopted; write nothing.")
    ] = False,
    as_json: JsonDocFlag = False,
    wait: PassWait = 120.0,
    shop: ShopFlag = None,
) -> None:
    """Mark every row the worker has never seen as history: closed rows are never notified."""
    try:
        with settings_and_store(shop) as (settings, store):
            worker = build_worker(settings, store)
            try:
                with pass_lock(settings).acquire(timeout=wait):
                    report = worker.record_pass(utc_now(), adopt_only=True, dry_run=dry_run)
            except Timeout:
                raise StoreError(
                    "another pass is still running on this store; try again later"
                ) from None
            finally:
                worker.close()
    except SheetqueueError as error:
        raise fail(error, as_json=as_json) from None
    document = _adoption(report, dry_run)
    if as_json:
        emit_json(document)
        return
    verb = "would adopt" if dry_run else "adopted"
    typer.echo(
        f"{verb} {document['closed']} closed rows as history (not notified)"
        + (f": {_counts(report.adopted)}" if report.adopted else "")
    )
    typer.echo(
        f"{verb} {document['open']} open rows (told only of moves from now on)"
        + (f": {_counts(report.seen)}" if report.seen else "")
    )
    typer.echo(f"{document['known']} rows were already known to the worker")


def _adoption(report: PassReport, dry_run: bool) -> dict[str, object]:
    closed, opened = sum(report.adopted.values()), sum(report.seen.values())
    return {
        "dry_run": dry_run,
        "closed": closed,
        "open": opened,
        "known": report.rows - closed - opened,
        "adopted": report.adopted,
        "seen": report.seen,
        "skipped_rows": report.skipped_rows,
    }


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{status} {count}" for status, count in sorted(counts.items()))


@app.command("worker")
def worker_command(
    metrics_port: Annotated[
        int | None,
        typer.Option(
            "--metrics-port", min=0, max=65535, help="Serve /metrics, /healthz and /readyz here."
        ),
    ] = None,
    metrics_host: Annotated[
        str, typer.Option("--metrics-host", help="Interface of the metrics port.")
    ] = "127.0.0.1",
) -> None:
    """Run the scheduled worker until SIGINT/SIGTERM (the pass in flight finishes first)."""
    from sheetqueue.worker.scheduler import PassNow, run_scheduled

    if shops_worker():
        return
    configure_logging("INFO")
    try:
        with settings_and_store(None, preflight=True) as (settings, store):
            configure_logging(settings.log_level or "INFO")
            metrics = Metrics()
            worker = build_worker(settings, store, metrics)
            lock = pass_lock(settings)
            archiver = Archiver()

            def job() -> None:
                if run_tick(worker, utc_now(), lock) is not None:
                    archiver.maybe("queue", settings, store, utc_now())

            try:
                health = _health(settings, worker, metrics, metrics_host, metrics_port)
                try:
                    run_scheduled(
                        job,
                        settings.interval_seconds,
                        clock=utc_now,
                        pass_now=PassNow(utc_now, mark=worker.team_events),
                    )
                finally:
                    if health is not None:
                        health.stop()
                if worker.lease is not None:  # a clean stop hands the queue over at once
                    worker.lease.release()
            finally:
                worker.close()
    except SheetqueueError as error:
        raise fail(error) from None


def _health(
    settings: Settings, worker: Worker, metrics: Metrics, host: str, port: int | None
) -> HealthServer | None:
    if port is None:
        return None
    readiness = Readiness(
        metrics,
        clock=utc_now,
        probe=store_probe(settings, metrics),
        interval_seconds=settings.interval_seconds,
        max_missed=settings.ready_missed_passes,
    )
    if worker.outbox is not None:
        watch_outbox(metrics, worker.outbox, utc_now)
    try:
        return HealthServer(metrics, readiness, host, port).start()
    except OSError as exc:
        raise InputError(f"--metrics-port: cannot listen on {host}:{port}: {exc}") from None
