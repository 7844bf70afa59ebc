"""The Summary tab as a team sees it: a queue on the emulator, two worker passes, the tab's cells.

Run ``python -m bench.summary_picture``: it prints the emulator's cells of the
``Summary`` tab as a grid (column letters, row numbers), the rendering the
README shows. Everything runs offline on a local emulator at a fixed time.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from bench.workload import NOW, orders, requests
from sheetqueue.bootstrap import build_worker
from sheetqueue.config.logs import configure_logging
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.gsheets_api import SheetsApi
from sheetqueue.sheets.gsheets_store import GsheetsStore
from sheetqueue.sheets.model import CANONICAL_HEADER, LOG_HEADER, Request
from sheetqueue.sheets.testing.emulator import Emulator, emulator_client
from sheetqueue.worker.summary import render_grid

__all__ = ["summary_picture"]


def summary_picture() -> str:
    """The Summary tab after a pass over a small mixed queue, as text."""
    with Emulator() as emulator, tempfile.TemporaryDirectory() as folder:
        assert emulator.url is not None
        tabs = {"Requests": [list(CANONICAL_HEADER)], "Log": [list(LOG_HEADER)], "Orders": []}
        book = emulator.create_spreadsheet("Tee Shop requests", tabs)
        api = SheetsApi(emulator_client(emulator.url, 5.0), book)
        store = GsheetsStore(api, orders_with_queue=True, summary_tab="Summary")
        store.replace_orders(orders(9))
        late = (NOW - timedelta(days=4, hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
        store.add_requests(
            [
                *requests(9, open_every=2),
                Request(
                    request_id="REQ-7Q2M4K9XH3B8TZ1C",
                    timestamp=late,
                    type="exchange",
                    status="In Progress",
                    order_id="ORD-000003",
                    email="lena@example.com",
                    conversation_id="conv-late",
                ),
                Request(
                    request_id="REQ-H8W3N6P1D4F7JK2S",
                    timestamp=late,
                    type="refund",
                    status="Done",
                    order_id="ORD-000004",
                    conversation_id="conv-lost",
                    notified="Done not sent (no address to send to)",
                ),
            ]
        )
        settings = Settings(
            backend="gsheets",
            spreadsheet_id=book,
            sheets_api_url=emulator.url,
            notify=["log:"],
            state_path=Path(folder) / "state.db",
        )
        worker = build_worker(settings, store)
        try:
            worker.run_pass(NOW)
        finally:
            worker.close()
        return render_grid(emulator.values(book, "Summary"))


if __name__ == "__main__":
    configure_logging("WARNING")
    print(summary_picture())
