"""A local Google Sheets API v4 emulator that the real gspread client talks to over HTTP.

Start one in a test with ``with Emulator() as emu:``, make a spreadsheet with
``emu.create_spreadsheet("Queue", {"Requests": [header]})`` and point gspread
at it with ``emulator_client(emu.url)``. Faults, quotas, hand edits and the
call log are driven through the same object (or ``/_emulator/...`` over HTTP).
``serve_emulator()`` runs one in the foreground for ``sheetqueue emulator``.
"""

from __future__ import annotations

from sheetqueue.sheets.gsheets_client import emulator_client
from sheetqueue.sheets.testing.emulator.cells import Cell
from sheetqueue.sheets.testing.emulator.errors import ApiError
from sheetqueue.sheets.testing.emulator.faults import Call
from sheetqueue.sheets.testing.emulator.server import Emulator, serve_emulator
from sheetqueue.sheets.testing.emulator.service import SheetsService

__all__ = [
    "ApiError",
    "Call",
    "Cell",
    "Emulator",
    "SheetsService",
    "emulator_client",
    "serve_emulator",
]
