"""One scenario in its own process: three passes over N rows.

The sheet is mostly history: one row in 50 is Pending, the rest are closed
(98 %). The first pass decides the open rows and marks the closed ones as
seen; the second writes the ``Notified`` cells of the messages the first one
sent; the third (the *quiet* pass) finds nothing to do.

``python -m bench.pass_bench local|gsheets N`` prints one JSON line: wall and
CPU seconds of each pass, Sheets API calls and bytes read, first-pass
decisions (rows decided plus rows written) per CPU second, and the peak memory
(RSS) of the process that ran the passes (also after building the worker and after
each pass: the peak so far, so the pass that set it shows). On gsheets it also takes the CPU
time of ``json.loads`` of the very response the quiet pass read, in the same
process: the floor a pass cannot go below (the bytes must be parsed), once
as a plain call runs it and once with the cycle collector held off as the
pass holds it (``*_collector_off``: the stricter floor). The
rows are written beforehand by a child process, and on gsheets the emulator
runs in a process of its own, so the peak is the worker's alone.

``--curly`` puts one curly apostrophe (U+2019, as phones type it) into one
request's Details: a sheet of real shoppers' text holds some, and Python
stores a whole decoded text at 2 bytes a character once it holds one.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.workload import NOW, orders, requests
from sheetqueue.bootstrap import build_worker, open_store
from sheetqueue.config.loading import load_settings
from sheetqueue.config.logs import configure_logging
from sheetqueue.sheets.gsheets_store import GsheetsStore

SCRIPT = Path(sys.executable).with_name("sheetqueue")
OPEN_EVERY = 50  # 98 % of the rows closed


class _Bytes:
    """Response bodies the Sheets client receives: their sizes, and where the largest came from.

    The largest body is not held (that would be a copy the worker does not
    keep, counted in its peak memory): its request is fetched again after the
    passes, and its length checked, for the ``json.loads`` floor.
    """

    def __init__(self) -> None:
        self.total = 0
        self.largest = 0
        self.largest_url = ""

    def hook(self, response: Any, *_args: Any, **_kwargs: Any) -> None:
        length = response.headers.get("Content-Length")  # a streamed body is not read here
        size = int(length) if length is not None else len(response.content)
        self.total += size
        if size > self.largest:
            self.largest, self.largest_url = size, str(response.request.url)

    def reset(self) -> None:
        self.total, self.largest, self.largest_url = 0, 0, ""

    def again(self, session: Any) -> bytes:
        """The largest answer once more (nothing changed since: the same bytes)."""
        body: bytes = session.get(self.largest_url).content
        if len(body) != self.largest:
            raise RuntimeError("the quiet pass's answer changed before the floor was taken")
        return body


def json_floor(body: bytes, repeat: int = 5, *, collector: bool = True) -> float:
    """The least CPU seconds ``json.loads`` takes over ``body`` (bytes to Python lists).

    ``collector``: Python's cycle collector on, as a plain call runs (its
    collections walk the lists being built, more of them the larger the
    answer), or held off, as a pass's record step runs: the stricter floor.
    """
    best = float("inf")
    held = not collector and gc.isenabled()
    if held:
        gc.disable()
    try:
        for _ in range(repeat):
            start = time.process_time()
            json.loads(body)
            best = min(best, time.process_time() - start)
    finally:
        if held:
            gc.enable()
    return best


@contextmanager
def _environment(kind: str, folder: Path) -> Iterator[tuple[dict[str, str], str | None]]:
    """SHEETQUEUE_* variables for the scenario, and the emulator's URL on gsheets."""
    env = {
        "SHEETQUEUE_LOCAL_PATH": str(folder / "queue.db"),
        "SHEETQUEUE_STATE_PATH": str(folder / "state.db"),
        "SHEETQUEUE_NOTIFY": "log:",
    }
    if kind == "local":
        yield env, None
        return
    emulator = subprocess.Popen(
        [str(SCRIPT), "emulator", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert emulator.stdout is not None
        url = emulator.stdout.readline().split()[-1]
        book = create_book(url)
        env |= {
            "SHEETQUEUE_BACKEND": "gsheets",
            "SHEETQUEUE_SPREADSHEET_ID": book,
            "SHEETQUEUE_SHEETS_API_URL": url,
        }
        yield env, url
    finally:
        emulator.terminate()
        emulator.wait(30)


def create_book(url: str) -> str:
    """A new spreadsheet (empty Requests and Orders tabs) on the emulator at ``url``."""
    tabs: dict[str, list[list[str]]] = {"Requests": [], "Orders": []}
    for _ in range(50):  # the emulator announces its URL just before it listens
        try:
            answer = httpx.post(f"{url}/_emulator/spreadsheets", json={"title": "b", "tabs": tabs})
            return str(answer.json()["spreadsheetId"])
        except httpx.ConnectError:
            time.sleep(0.1)
    raise RuntimeError(f"the emulator at {url} did not answer")


def _calls(url: str | None) -> int | None:
    if url is None:
        return None
    return int(httpx.get(f"{url}/_emulator/log").json()["counts"]["total"])


def _peak_mb() -> float:
    """The process's peak resident memory so far, in MB (Linux reports kilobytes)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def setup(size: int, curly: bool = False) -> None:
    """Write ``size`` orders and Pending requests into the store the environment names."""
    configure_logging("ERROR")
    settings = load_settings()
    store = open_store(settings)
    if settings.backend == "gsheets":
        from sheetqueue.sheets.gsheets_store import GsheetsStore
        from sheetqueue.sheets.sheet_setup import init_sheet

        assert isinstance(store, GsheetsStore)
        init_sheet(store)  # as a shop does once: header, Log tab, dropdown
    store.replace_orders(orders(size))
    every = requests(size, OPEN_EVERY)
    if curly:
        every[1] = every[1].model_copy(update={"details": "it\u2019s the wrong size"})
    for start in range(0, size, 10_000):
        store.add_requests(every[start : start + 10_000])
    store.close()


def run(kind: str, size: int, curly: bool = False) -> dict[str, Any]:
    configure_logging("ERROR")
    result: dict[str, Any] = {"backend": kind, "rows": size, "curly": curly}
    with tempfile.TemporaryDirectory() as tmp, _environment(kind, Path(tmp)) as (env, url):
        subprocess.run(
            [sys.executable, "-m", "bench.pass_bench", "setup", str(size)]
            + (["--curly"] if curly else []),
            env={**os.environ, **env},
            check=True,
        )
        os.environ.update(env)
        settings = load_settings()
        store = open_store(settings)
        worker = build_worker(settings, store)
        result["ready_rss_mb"] = _peak_mb()  # the interpreter, its imports, the worker built
        received = _Bytes()
        if isinstance(store, GsheetsStore):
            store.api.session.hooks["response"].append(received.hook)
        for minute, label in enumerate(("first", "second", "quiet")):
            before = _calls(url)
            received.reset()
            wall, cpu = time.perf_counter(), time.process_time()
            report = worker.run_pass(NOW + timedelta(minutes=minute))
            result[f"{label}_seconds"] = round(time.perf_counter() - wall, 3)
            result[f"{label}_cpu"] = round(time.process_time() - cpu, 3)
            result[f"{label}_changed"] = report.changed
            result[f"{label}_peak_rss_mb"] = _peak_mb()  # the peak so far: it never goes down
            if label == "first":
                decisions = report.checked + report.planned
                result["first_decisions"] = decisions
                result["decisions_per_cpu_s"] = round(decisions / max(result["first_cpu"], 1e-6))
            after = _calls(url)
            if before is not None and after is not None:
                result[f"{label}_calls"] = after - before
                result[f"{label}_bytes"] = received.total
        # The passes' peak, before the floor below fetches and parses their answer again.
        result["peak_rss_mb"] = _peak_mb()
        if received.largest and isinstance(store, GsheetsStore):
            body = received.again(store.api.session)
            floor, strict = json_floor(body), json_floor(body, collector=False)
            result["json_loads_cpu"] = round(floor, 4)
            result["quiet_ratio"] = round(result["quiet_cpu"] / max(floor, 1e-6), 2)
            result["json_loads_cpu_collector_off"] = round(strict, 4)
            result["quiet_ratio_collector_off"] = round(result["quiet_cpu"] / max(strict, 1e-6), 2)
        worker.ledger.close()
        store.close()
    return result


if __name__ == "__main__":
    curly = "--curly" in sys.argv[3:]
    if sys.argv[1] == "setup":
        setup(int(sys.argv[2]), curly)
    else:
        print(json.dumps(run(sys.argv[1], int(sys.argv[2]), curly)))
