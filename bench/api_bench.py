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
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.serving import (
    gsheets_env,
    percentile,
    post_request,
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


def run(backend: str, count: int, threads: int = THREADS) -> dict[str, Any]:
    """One backend: the load, its latencies, and when the rows had all landed."""
    with tempfile.TemporaryDirectory() as tmp, Emulator() as emulator:
        folder = Path(tmp)
        env: dict[str, str] = {}
        read_ids = partial(_local_ids, folder / "queue.db")
        if backend == "gsheets":
            book, env = gsheets_env(emulator)
            read_ids = partial(sheet_ids, emulator, book)
        with serve(env, folder) as url:
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
        "p50_ms": round(percentile(load.latencies, 0.50) * 1000, 1),
        "p99_ms": round(percentile(load.latencies, 0.99) * 1000, 1),
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
    with tempfile.TemporaryDirectory() as tmp, Emulator() as emulator:
        folder = Path(tmp)
        env: dict[str, str] = {}
        read_ids = partial(_local_ids, folder / "queue.db")
        if backend == "gsheets":
            book, env = gsheets_env(emulator)
            read_ids = partial(sheet_ids, emulator, book)
        with serve(env, folder) as url:
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
        "p50_ms": round(percentile(load.latencies, 0.50) * 1000, 1),
        "p90_ms": round(percentile(load.latencies, 0.90) * 1000, 1),
        "p99_ms": round(percentile(load.latencies, 0.99) * 1000, 1),
        "max_ms": round(max(load.latencies, default=0.0) * 1000, 1),
        "errors": offered - len(load.accepted_ids),
        "landed": landing.landed,
        "duplicates": landing.duplicates,
    }


def open_table(results: list[dict[str, Any]]) -> Table:
    """The open-loop results as a Rich table."""
    out = Table(
        title="POST /v1/requests at a fixed offered rate (open loop, latency from the due time)"
    )
    columns = (
        "backend",
        "offered req/s",
        "seconds",
        "clients",
        "achieved req/s",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "errors",
        "rows landed",
        "duplicates",
    )
    for name in columns:
        out.add_column(name, justify="right")
    for r in results:
        out.add_row(
            r["backend"],
            str(r["offered_per_second"]),
            str(r["seconds"]),
            str(r["threads"]),
            str(r["achieved_per_second"]),
            str(r["p50_ms"]),
            str(r["p90_ms"]),
            str(r["p99_ms"]),
            str(r["max_ms"]),
            str(r["errors"]),
            f"{r['landed']:,}/{r['requests']:,}",
            str(r["duplicates"]),
        )
    return out


def table(results: list[dict[str, Any]]) -> Table:
    """The results as a Rich table."""
    out = Table(title="POST /v1/requests through sheetqueue serve (uvicorn, 127.0.0.1)")
    columns = (
        "backend",
        "requests",
        "client threads",
        "seconds",
        "req/s",
        "p50 ms",
        "p99 ms",
        "failed",
        "rows landed",
        "duplicates",
        "all landed after s",
        "Sheets calls",
    )
    for name in columns:
        out.add_column(name, justify="right")
    for r in results:
        out.add_row(
            r["backend"],
            f"{r['requests']:,}",
            str(r["threads"]),
            str(r["seconds"]),
            str(r["per_second"]),
            str(r["p50_ms"]),
            str(r["p99_ms"]),
            str(r["failed"]),
            f"{r['landed']:,}",
            str(r["duplicates"]),
            "-" if r["landed_after_s"] is None else str(r["landed_after_s"]),
            "-" if r["sheets_calls"] is None else str(r["sheets_calls"]),
        )
    return out


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
