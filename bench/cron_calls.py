"""The Sheets calls of cron ticks: each ``sheetqueue tick`` a new process on one state file.

``python -m bench.cron_calls [N]`` starts the emulator, writes N rows (one in
50 Pending, as ``bench.pass_bench``), runs ``sheetqueue tick`` until a tick
writes nothing, then two more ticks, then deletes the state file and runs two
more. It prints one JSON line per tick: all its calls, the pass lease's (its
compare-and-set alone, or the lease tab's id, its cell and the
compare-and-set: see :func:`split_lease`), and the pass's own, by kind.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

from bench.pass_bench import create_book
from bench.workload import orders, requests
from sheetqueue.bootstrap import open_store
from sheetqueue.config.loading import load_settings
from sheetqueue.config.logs import configure_logging
from sheetqueue.sheets.gsheets_lease import LEASE_TAB
from sheetqueue.sheets.gsheets_store import GsheetsStore
from sheetqueue.sheets.sheet_setup import init_sheet

SCRIPT = Path(sys.executable).with_name("sheetqueue")
OPEN_EVERY = 50


def call_kind(call: dict[str, Any]) -> str:
    """A call of the emulator's log as metadata, structure, values read or values write."""
    if "/values" not in call["path"]:
        return "metadata" if call["method"] == "GET" else "structure"
    return "values read" if call["method"] == "GET" else "values write"


def split_lease(calls: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """A tick's calls by kind: the pass lease's, then the pass's own.

    The lease makes 1 call, its compare-and-set (a structure call), when the
    state file kept the text this installation last wrote; 3 otherwise: the
    lease tab's id (metadata), its cell (a values read of that tab), the
    compare-and-set (2 when the tab is made). A pass never starts with a
    structure call.
    """
    kinds = [call_kind(call) for call in calls]
    found = len(kinds) > 1 and (kinds[1] == "structure" or LEASE_TAB in calls[1]["path"])
    if kinds[:1] == ["structure"]:
        lease = 1
    elif kinds[:1] == ["metadata"] and found:
        lease = kinds.index("structure") + 1
    else:
        lease = 0
    return kinds[:lease], kinds[lease:]


def _fill(env: dict[str, str], size: int) -> None:
    os.environ.update(env)
    configure_logging("ERROR")
    store = open_store(load_settings())
    assert isinstance(store, GsheetsStore)
    init_sheet(store)
    store.replace_orders(orders(size))
    every = requests(size, OPEN_EVERY)
    for start in range(0, size, 10_000):
        store.add_requests(every[start : start + 10_000])
    store.close()


def _tick(env: dict[str, str], url: str, state: str) -> dict[str, Any]:
    httpx.delete(f"{url}/_emulator/log")
    done = subprocess.run(
        [str(SCRIPT), "tick", "--json"], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"tick exited {done.returncode}: {done.stderr[-2000:]}")
    lease, kinds = split_lease(httpx.get(f"{url}/_emulator/log").json()["calls"])
    return {
        "state": state,
        "calls": len(lease) + len(kinds),
        "lease_calls": len(lease),
        "pass_calls": len(kinds),
        "pass": kinds,
    }


def main(size: int) -> None:
    with tempfile.TemporaryDirectory(prefix="sq-cron-") as name:
        folder = Path(name)
        emulator = subprocess.Popen(
            [str(SCRIPT), "emulator", "--port", "0"], stdout=subprocess.PIPE, text=True
        )
        try:
            assert emulator.stdout is not None
            url = emulator.stdout.readline().split()[-1]
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith("SHEETQUEUE_")},
                "SHEETQUEUE_BACKEND": "gsheets",
                "SHEETQUEUE_SPREADSHEET_ID": create_book(url),
                "SHEETQUEUE_SHEETS_API_URL": url,
                "SHEETQUEUE_STATE_PATH": str(folder / "state.db"),
                "SHEETQUEUE_NOTIFY": "log:",
                "SHEETQUEUE_LOG_LEVEL": "ERROR",
            }
            _fill(env, size)
            for _ in range(8):  # until a tick writes nothing
                tick = _tick(env, url, "settling")
                if not {"values write", "structure"} & set(tick["pass"]):
                    break
            for _ in range(2):
                print(json.dumps({"rows": size, **_tick(env, url, "kept")}), flush=True)
            for path in folder.glob("state.db*"):
                if not path.name.endswith(".holder"):
                    path.unlink()
            print(json.dumps({"rows": size, **_tick(env, url, "deleted")}), flush=True)
            print(json.dumps({"rows": size, **_tick(env, url, "kept")}), flush=True)
        finally:
            emulator.terminate()
            emulator.wait(30)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
