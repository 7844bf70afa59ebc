"""Google Sheets commands: init-sheet (set up the Requests tab) and emulator (a local API)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from sheetqueue.cli import app, fail
from sheetqueue.cli.common import ShopFlag, console, shop_settings_of
from sheetqueue.config.errors import ConfigError, SheetqueueError


@app.command("init-sheet")
def init_sheet_command(shop: ShopFlag = None) -> None:
    """Create or upgrade the Requests tab: header, frozen row, status dropdown, colours, Log tab."""
    try:
        settings = shop_settings_of(shop)
        if settings.backend != "gsheets":
            raise ConfigError("SHEETQUEUE_BACKEND: init-sheet needs gsheets (the Google Sheet)")
        from sheetqueue.sheets.gsheets_store import GsheetsStore
        from sheetqueue.sheets.sheet_setup import init_sheet

        store = GsheetsStore.from_settings(settings)
        try:
            changes = init_sheet(store, review_after_days=settings.review_after_days)
        finally:
            store.close()
    except SheetqueueError as error:
        raise fail(error) from None
    if not changes:
        console.print(f"{escape(settings.requests_tab)} is already set up; nothing changed.")
        return
    for change in changes:
        console.print(f"- {escape(change)}")


@app.command()
def emulator(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 picks a free one).")] = 8085,
) -> None:
    """Run a local Google Sheets API emulator on 127.0.0.1 until Ctrl-C."""
    from sheetqueue.sheets.testing.emulator import serve_emulator

    try:
        serve_emulator(port=port, announce=lambda line: typer.echo(line))
    except OSError as exc:
        raise fail(ConfigError(f"--port: cannot listen on 127.0.0.1:{port} ({exc})")) from None
    except KeyboardInterrupt:
        typer.echo("emulator stopped")
