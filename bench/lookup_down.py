"""``python -m bench.lookup_down``: how long a bot's lookup takes while Sheets misbehaves.

The API served for real on the Sheets emulator (orders in its Orders tab);
each line is five ``POST /v1/orders/lookup`` calls in a row (median and slowest, ms).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sheetqueue.bootstrap import build_api
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.model import CANONICAL_HEADER
from sheetqueue.sheets.testing.emulator import Emulator
from sheetqueue.worker.metrics import Metrics
from tests.api_kit import TOKEN, Api, serve
from tests.factories import make_order_record
from tests.store_backends import store_on

LOOKUP = {"order_id": "ORD-1001", "email": "ana@example.com", "conversation_id": "c1"}


def _median_ms(api: Api, tries: int = 5) -> tuple[float, float, int, bool]:
    took, code, stale = [], 0, False
    for _ in range(tries):
        started = time.monotonic()
        answer = api.post("/v1/orders/lookup", LOOKUP)
        took.append((time.monotonic() - started) * 1000)
        code, stale = answer.status_code, bool(answer.json().get("stale"))
    return statistics.median(took), max(took), code, stale


def main() -> None:
    with Emulator() as emulator, tempfile.TemporaryDirectory() as folder:
        book = emulator.create_spreadsheet("Queue", {"Requests": [list(CANONICAL_HEADER)]})
        store = store_on(emulator, book)
        store.replace_orders([make_order_record(status="delivered", delivered_at="2026-11-05")])
        store.close()

        def settings(state: str) -> Settings:
            return Settings(
                backend="gsheets",
                spreadsheet_id=book,
                sheets_api_url=str(emulator.url),
                state_path=Path(folder) / state / "state.db",
                orders="tab:Orders",
                api_token=TOKEN,
            )

        cases: list[tuple[str, str, Callable[[], None]]] = [
            ("Sheets up", "a", emulator.set_faults),
            ("every call 503", "a", lambda: emulator.set_faults(rate=1.0, codes=(503,))),
            ("every call 429", "a", lambda: emulator.set_faults(rate=1.0, codes=(429,))),
            ("every call 20 s late", "a", lambda: emulator.set_faults(delay=20.0)),
            ("503, no copy yet", "b", lambda: emulator.set_faults(rate=1.0, codes=(503,))),
        ]
        print(f"{'case':24} {'median ms':>10} {'slowest ms':>11} {'status':>7} {'stale':>6}")
        for name, state, fault in cases:
            app = build_api(settings(state), Metrics(), orders_max_age=0.0)
            with serve(app) as api:
                if state == "a":
                    emulator.set_faults()
                    api.post("/v1/orders/lookup", LOOKUP)  # the copy is made here
                fault()
                median, slowest, code, stale = _median_ms(api)
                emulator.set_faults()
            print(f"{name:24} {median:10.0f} {slowest:11.0f} {code:7d} {stale!s:>6}")


if __name__ == "__main__":
    main()
