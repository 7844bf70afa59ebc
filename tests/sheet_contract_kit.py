"""A worked queue on the emulator for the header-contract tests: decided, closed, told.

:class:`WorkedSheet` records requests through the gspread store, runs a first
pass (which adopts and tags the tab), lets the team close some rows, and a
second pass tells those shoppers. Tests then reshape the sheet the way a
team does and run fresh workers (a new process each time, as cron does) to
show what the worker does and does not do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.workload import NOW, orders, requests
from sheetqueue.bootstrap import build_worker
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.gsheets_api import SheetsApi
from sheetqueue.sheets.gsheets_store import GsheetsStore
from sheetqueue.sheets.model import CANONICAL_HEADER, LOG_HEADER
from sheetqueue.sheets.testing.emulator import Emulator, emulator_client
from sheetqueue.worker.tick import PassReport
from tests.store_backends import no_sleep_backoff

__all__ = ["WorkedSheet"]

ROWS = 8
CLOSED = {3: "Done", 4: "Rejected"}  # sheet rows the team closes


@dataclass
class WorkedSheet:
    """A spreadsheet whose queue two passes have worked, and the team closed rows in."""

    emulator: Emulator
    tmp_path: Path
    settings_overrides: dict[str, Any] = field(default_factory=dict)
    passes: int = 0

    def __post_init__(self) -> None:
        assert self.emulator.url is not None
        self.book = self.emulator.create_spreadsheet(
            "Queue",
            {"Requests": [list(CANONICAL_HEADER)], "Log": [list(LOG_HEADER)], "Orders": []},
        )
        store = self.store()
        store.replace_orders(orders(ROWS))
        store.add_requests(requests(ROWS))
        self.run()
        for row, status in CLOSED.items():
            self.emulator.edit_cell(self.book, "Requests", row, "Status", status)
        self.run()
        self.emulator.reset_log()

    def settings(self) -> Settings:
        values: dict[str, Any] = {
            "backend": "gsheets",
            "spreadsheet_id": self.book,
            "sheets_api_url": self.emulator.url,
            "state_path": self.tmp_path / "state.db",
            "notify": [f"maildir:{self.tmp_path / 'outbox'}"],
            **self.settings_overrides,
        }
        return Settings(**values)

    def store(self, **overrides: Any) -> GsheetsStore:
        assert self.emulator.url is not None
        api = SheetsApi(
            emulator_client(self.emulator.url, 5.0), self.book, backoff=no_sleep_backoff()
        )
        settings = self.settings()
        return GsheetsStore(
            api,
            requests_tab=settings.requests_tab,
            orders_with_queue=True,
            aliases=settings.sheet.aliases,
            **overrides,
        )

    def run(self, **store_overrides: Any) -> PassReport:
        """One pass by a fresh worker (new store, same state file)."""
        store = self.store(**store_overrides)
        worker = build_worker(self.settings(), store)
        try:
            self.passes += 1
            return worker.run_pass(NOW + timedelta(minutes=self.passes))
        finally:
            worker.close()
            store.close()

    def values(self, tab: str = "Requests") -> list[list[Any]]:
        return self.emulator.values(self.book, tab)

    def messages(self) -> int:
        """Messages written to the maildir so far."""
        return sum(1 for path in (self.tmp_path / "outbox").rglob("*") if path.is_file())

    def value_writes(self) -> list[str]:
        """``Tab!Header`` of every column a values write touched since the log was reset."""
        return [
            column
            for call in self.emulator.calls
            if call.status == 200 and "/values" in call.path
            for column in call.columns
        ]

    def structure_calls(self) -> int:
        return sum(
            1
            for call in self.emulator.calls
            if call.path.endswith(":batchUpdate") and "/values" not in call.path
        )
