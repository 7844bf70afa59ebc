"""``sheetqueue archive``: move closed rows out of the live queue into dated archive tabs."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from sheetqueue.archiving import run_archive
from sheetqueue.cli import app, emit_json, fail
from sheetqueue.cli.common import JsonDocFlag, PassWait, ShopFlag, settings_and_store
from sheetqueue.config.clock import utc_now
from sheetqueue.config.errors import InputError, SheetqueueError
from sheetqueue.config.sign_in import spreadsheet_key
from sheetqueue.worker.archive import ArchiveReport


@app.command()
def archive(
    closed_before: Annotated[
        int,
        typer.Option(
            "--closed-before", min=1, help="Archive rows closed more than this many days ago."
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would move; write nothing.")
    ] = False,
    as_json: JsonDocFlag = False,
    batch: Annotated[int, typer.Option(min=1, help="Rows copied and deleted per step.")] = 500,
    wait: PassWait = 120.0,
    to_spreadsheet: Annotated[
        str,
        typer.Option(
            "--to-spreadsheet",
            metavar="ID",
            help="Archive into this other spreadsheet (key or URL); "
            "default SHEETQUEUE_ARCHIVE_SPREADSHEET_ID, else the queue's own.",
        ),
    ] = "",
    shop: ShopFlag = None,
) -> None:
    """Move closed rows (Done, Rejected, Ineligible) to the archive tab of their year."""
    try:
        target = _target(to_spreadsheet)
        with settings_and_store(shop) as (settings, store):
            if target:
                settings = settings.model_copy(update={"archive_spreadsheet_id": target})
            report = run_archive(
                settings,
                store,
                utc_now(),
                timedelta(days=closed_before),
                dry_run=dry_run,
                batch=batch,
                wait=wait,
            )
    except SheetqueueError as error:
        raise fail(error, as_json=as_json) from None
    if as_json:
        emit_json(report.document())
        return
    typer.echo(_describe(report))


def _target(text: str) -> str:
    """The key in ``--to-spreadsheet`` (a key or a sheet's URL), or InputError (exit 2)."""
    try:
        return spreadsheet_key(text)
    except ValueError as exc:
        raise InputError(f"--to-spreadsheet: {exc}") from None


def _describe(report: ArchiveReport) -> str:
    verb = "would archive" if report.dry_run else "archived"
    where = ", ".join(f"{tab} {count}" for tab, count in sorted(report.tabs.items()))
    line = f"{verb} {report.archived} rows closed before {report.cutoff}"
    line += f" ({where})" if where else ""
    line += f" to spreadsheet {report.spreadsheet!r}" if report.spreadsheet else ""
    kept = report.document()["kept"]
    assert isinstance(kept, dict)
    left = ", ".join(f"{why} {count}" for why, count in kept.items() if count)
    return line + (f"; left in place: {left}" if left else "")
