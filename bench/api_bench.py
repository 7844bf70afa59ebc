"""Record latency through the HTTP API: ``POST /v1/requests`` on a real ``sheetqueue serve``.

``python -m bench api`` (or ``python -m bench.api_bench [--quick]``) sends
2,000 requests from 4 client threads, as fast as the server answers, to a
server on the local backend and to one on the gsheets backend (the emulator,
no quota), and waits until every accepted row is in the queue.

Then an open-loop run on the local backend, on a server warmed by 200 requests:
300 requests/s offered on a fixed timetable for 20 s (``--quick``: 3 s) from 32
keep-alive clients (each connected before the clock starts), each latency
counted from the request's due time (so queueing in the server is not hidden
by clients that wait for it), and the rows counted once landed.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.serving import (
    Cell,
    gsheets_env,
    percentile_ms,
    post_request,
    results_table,
    run_load,
    run_open_loop,
    serve,
    sheet_ids,
    wait_landed,
)
from sheetqueue.sheets.sqlite_store import SqliteStore
from sheetqueue.sheets.testing.emulator import Emulator

__all__ = ["main", "run"]

REQUESTS = 2_000
THREADS = 4
OPEN_RATE = 300.0
OPEN_SECONDS = 20.0
OPEN_THREADS = 32


def _local_ids(path: Path) -> list[str]:
    if not path.exists():
        return []
    store = SqliteStore(path)
    try:
        return [stored.request.request_id for stored in store.read_requests()]
    finally:
        store.close()


@contextmanager
def _served(backend: str) -> Iterator[tuple[str, Callable[[], list[str]], Emulator]]:
    """``sheetqueue serve`` on ``backend`` in a new folder: (its URL, the queue's IDs, emulator)."""
    with tempfile.TemporaryDirectory() as tmp, Emulator() as emulator:
        folder = Path(tmp)
        env: dict[str, str] = {}
        read_ids = partial(_local_ids, folder / "queue.db")
        if backend == "gsheets":
            book, env = gsheets_env(emulator)
            read_ids = partial(sheet_ids, emulator, book)
        with serve(env, folder) as url:
            yield url, read_ids, emulator


def run(backend: str, count: int, threads: int = THREADS) -> dict[str, Any]:
    """One backend: the load, its latencies, and when the rows had all landed."""
    with _served(backend) as (url, read_ids, emulator):
        emulator.reset_log()
        load = run_load(post_request(url, f"api-{backend}"), count, threads=threads)
        landing = wait_landed(read_ids, load.accepted_ids, time.monotonic(), 120)
        calls = emulator.counts()["total"] if backend == "gsheets" else None
    return {
        "backend": backend,
        "requests": count,
        "threads": threads,
        "seconds": round(load.seconds, 2),
        "per_second": round(count / load.seconds, 1),
        "p50_ms": percentile_ms(load.latencies, 0.50),
        "p99_ms": percentile_ms(load.latencies, 0.99),
        "accepted": len(load.accepted_ids),
        "failed": count - len(load.accepted_ids),
        "landed": landing.landed,
        "duplicates": landing.duplicates,
        "landed_after_s": landing.seconds_after_last,
        "sheets_calls": calls,
    }


def run_open(
    backend: str, rate: float, seconds: float, threads: int = OPEN_THREADS
) -> dict[str, Any]:
    """One backend at a fixed offered rate: latency from each request's due time."""
    with _served(backend) as (url, read_ids, _emulator):
        warm = run_load(post_request(url, f"warm-{backend}"), 200, threads=4)
        wait_landed(read_ids, warm.accepted_ids, time.monotonic(), 120)
        load = run_open_loop(
            post_request(url, f"open-{backend}"),
            rate,
            seconds,
            threads=threads,
            warm_up=lambda client: client.get(f"{url}/healthz"),
        )
        landing = wait_landed(read_ids, load.accepted_ids, time.monotonic(), 120)
    offered = round(rate * seconds)
    return {
        "backend": backend,
        "offered_per_second": rate,
        "seconds": seconds,
        "threads": threads,
        "requests": offered,
        "achieved_per_second": round(len(load.accepted_ids) / load.seconds, 1),
        "p50_ms": percentile_ms(load.latencies, 0.50),
        "p90_ms": percentile_ms(load.latencies, 0.90),
        "p99_ms": percentile_ms(load.latencies, 0.99),
        "max_ms": round(max(load.latencies, default=0.0) * 1000, 1),
        "errors": offered - len(load.accepted_ids),
        "landed": landing.landed,
        "duplicates": landing.duplicates,
    }


def _dash_if_none(key: str) -> Callable[[dict[str, Any]], str]:
    return lambda r: "-" if r[key] is None else str(r[key])


OPEN_COLUMNS: tuple[tuple[str, Cell], ...] = (
    ("backend", "backend"),
    ("offered req/s", "offered_per_second"),
    ("seconds", "seconds"),
    ("clients", "threads"),
    ("achieved req/s", "achieved_per_second"),
    ("p50 ms", "p50_ms"),
    ("p90 ms", "p90_ms"),
    ("p99 ms", "p99_ms"),
    ("max ms", "max_ms"),
    ("errors", "errors"),
    ("rows landed", lambda r: f"{r['landed']:,}/{r['requests']:,}"),
    ("duplicates", "duplicates"),
)

COLUMNS: tuple[tuple[str, Cell], ...] = (
    ("backend", "backend"),
    ("requests", lambda r: f"{r['requests']:,}"),
    ("client threads", "threads"),
    ("seconds", "seconds"),
    ("req/s", "per_second"),
    ("p50 ms", "p50_ms"),
    ("p99 ms", "p99_ms"),
    ("failed", "failed"),
    ("rows landed", lambda r: f"{r['landed']:,}"),
    ("duplicates", "duplicates"),
    ("all landed after s", _dash_if_none("landed_after_s")),
    ("Sheets calls", _dash_if_none("sheets_calls")),
)


def open_table(results: list[dict[str, Any]]) -> Table:
    """The open-loop results as a Rich table."""
    title = "POST /v1/requests at a fixed offered rate (open loop, latency from the due time)"
    return results_table(title, OPEN_COLUMNS, results)


def table(results: list[dict[str, Any]]) -> Table:
    """The results as a Rich table."""
    title = "POST /v1/requests through sheetqueue serve (uvicorn, 127.0.0.1)"
    return results_table(title, COLUMNS, results)


def main(console: Console, quick: bool = False) -> list[dict[str, Any]]:
    """Closed loop on both backends, then the open loop on local; prints both tables."""
    from sheetqueue.config.logs import configure_logging

    configure_logging("ERROR")
    count = 500 if quick else REQUESTS
    results = [run(backend, count) for backend in ("local", "gsheets")]
    console.print(table(results))
    seconds = 3.0 if quick else OPEN_SECONDS
    opened = [run_open("local", OPEN_RATE, seconds)]
    console.print(open_table(opened))
    return results + opened


if __name__ == "__main__":
    only_open = "--open" in sys.argv
    if only_open:
        from sheetqueue.config.logs import configure_logging

        configure_logging("ERROR")
        seconds = 3.0 if "--quick" in sys.argv else OPEN_SECONDS
        Console(width=160).print(open_table([run_open("local", OPEN_RATE, seconds)]))
    else:
        main(Console(width=160), quick="--quick" in sys.argv)
