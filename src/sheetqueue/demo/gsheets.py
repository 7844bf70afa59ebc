"""``sheetqueue demo --backend gsheets``: the same demo, through gspread on a local Sheets emulator.

An emulator runs in this process on a free 127.0.0.1 port; the spreadsheet is
set up the way ``sheetqueue init-sheet`` does it, then the demo plays the
whole loop against it over HTTP and tells how many Sheets API calls it made.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from rich.console import Console

from sheetqueue.demo.run import demo_settings, run_demo
from sheetqueue.sheets.gsheets_store import GsheetsStore
from sheetqueue.sheets.sheet_setup import init_sheet
from sheetqueue.sheets.testing.emulator import Emulator

__all__ = ["run_gsheets_demo"]


def run_gsheets_demo(folder: Path, console: Console, now: datetime) -> dict[str, int]:
    """Run the demo on a fresh emulated spreadsheet; returns the emulator's call counts."""
    with Emulator() as emulator:
        book = emulator.create_spreadsheet("Tee Shop requests (demo)", ["Requests", "Orders"])
        settings = demo_settings(
            folder, backend="gsheets", spreadsheet_id=book, sheets_api_url=emulator.url
        )
        setup = GsheetsStore.from_settings(settings)
        try:
            changes = init_sheet(setup)
        finally:
            setup.close()
        console.print(
            f"[bold]0. init-sheet[/] on the emulator at {emulator.url}: {'; '.join(changes)}"
        )
        store = run_demo(settings, folder, console, now)
        store.close()
        counts = emulator.counts()
    console.print(
        f"\nSheets API calls: {counts['total']} "
        f"({counts['read']} reads, {counts['write']} writes, {counts['failed']} failed)."
    )
    return counts
