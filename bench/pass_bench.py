"""One scenario in its own process: three passes over N rows.

The first pass decides every row; the second writes the ``Notified`` cells of
the messages the first one sent; the third finds nothing to do.

``python -m bench.pass_bench local|gsheets N`` prints one JSON line: wall and
CPU seconds of each pass, Sheets API calls (emulator), peak memory (RSS).
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.workload import NOW, orders, requests
from bot_actions.bootstrap import build_worker, open_store
from config.logs import configure_logging
from config.settings import Settings
from sheets.model import LOG_HEADER
from sheets.store import Store


@contextmanager
def _backend(kind: str, folder: Path) -> Iterator[tuple[Settings, Any]]:
    base: dict[str, Any] = {
        "local_path": folder / "queue.db",
        "state_path": folder / "state.db",
        "notify": ["log:"],
    }
    if kind == "local":
        yield Settings(**base), None
        return
    from sheets.emulator import Emulator

    with Emulator() as emulator:
        spreadsheet = emulator.create_spreadsheet(
            "bench", {"Requests": [], "Orders": [], "Log": [list(LOG_HEADER)]}
        )
        settings = Settings(
            **base, backend="gsheets", spreadsheet_id=spreadsheet, sheets_api_url=emulator.url
        )
        yield settings, emulator


def _calls(emulator: Any) -> int | None:
    return None if emulator is None else int(emulator.counts()["total"])


def run(kind: str, size: int) -> dict[str, Any]:
    configure_logging("ERROR")
    with tempfile.TemporaryDirectory() as tmp, _backend(kind, Path(tmp)) as (settings, emulator):
        store: Store = open_store(settings)
        store.ensure_header()
        store.replace_orders(orders(size))
        for start in range(0, size, 10_000):
            store.add_requests(requests(size)[start : start + 10_000])
        worker = build_worker(settings, store)
        result: dict[str, Any] = {"backend": kind, "rows": size}
        for label, offset in (("first", 0), ("second", 60), ("quiet", 120)):
            before_calls = _calls(emulator)
            wall, cpu = time.perf_counter(), time.process_time()
            report = worker.run_pass(NOW.replace(second=offset % 60, minute=30 + offset // 60))
            result[f"{label}_seconds"] = round(time.perf_counter() - wall, 3)
            result[f"{label}_cpu"] = round(time.process_time() - cpu, 3)
            result[f"{label}_changed"] = report.changed
            if emulator is not None and before_calls is not None:
                result[f"{label}_calls"] = _calls(emulator) - before_calls  # type: ignore[operator]
        worker.ledger.close()
        store.close()
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1], int(sys.argv[2]))))
