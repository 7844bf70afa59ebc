"""The API by state: ``POST /v1/requests`` on SQLite state, and on PostgreSQL with 1 and 2 replicas.

``python -m bench state`` (or ``python -m bench.state_bench [--quick]``) starts a
throwaway PostgreSQL server on 127.0.0.1 (as the tests do), then for each
setup sends the requests from 4 client threads spread over the replicas
(gsheets backend on the emulator, no quota) and waits until every accepted
row is in the sheet, once.
"""

from __future__ import annotations

import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from bench.serving import (
    Cell,
    gsheets_env,
    percentile_ms,
    record_body,
    results_table,
    run_load,
    serve,
    sheet_ids,
    wait_landed,
)
from sheetqueue.sheets.pg_state import migrate
from sheetqueue.sheets.testing.emulator import Emulator
from tests.pg_server import start_pg_server

__all__ = ["main", "run"]

REQUESTS = 2_000
THREADS = 4
SETUPS = (("sqlite", 1), ("postgresql", 1), ("postgresql", 2))


def run(state_url: str, replicas: int, count: int, threads: int = THREADS) -> dict[str, Any]:
    """One setup: the load spread over ``replicas`` servers, its latencies, the landing."""
    with tempfile.TemporaryDirectory() as tmp, Emulator() as emulator, ExitStack() as stack:
        book, env = gsheets_env(emulator)
        if state_url:
            env["SHEETQUEUE_STATE_URL"] = state_url
        urls = []
        for replica in range(replicas):
            folder = Path(tmp) / f"host-{replica}"
            folder.mkdir()
            urls.append(stack.enter_context(serve(env, folder)))

        def send(client: httpx.Client, n: int) -> tuple[str, str]:
            answer = client.post(f"{urls[n % replicas]}/v1/requests", json=record_body("st", n))
            if answer.status_code == 201:
                return "ok", str(answer.json()["request_id"])
            return str(answer.status_code), ""

        load = run_load(send, count, threads=threads)
        landing = wait_landed(
            lambda: sheet_ids(emulator, book), load.accepted_ids, time.monotonic(), 180
        )
    return {
        "state": "postgresql" if state_url else "sqlite",
        "replicas": replicas,
        "requests": count,
        "per_second": round(count / load.seconds, 1),
        "p50_ms": percentile_ms(load.latencies, 0.50),
        "p99_ms": percentile_ms(load.latencies, 0.99),
        "failed": count - len(load.accepted_ids),
        "landed": landing.landed,
        "duplicates": landing.duplicates,
    }


COLUMNS: tuple[tuple[str, Cell], ...] = (
    ("state", "state"),
    ("replicas", "replicas"),
    ("requests", lambda r: f"{r['requests']:,}"),
    ("req/s", "per_second"),
    ("p50 ms", "p50_ms"),
    ("p99 ms", "p99_ms"),
    ("failed", "failed"),
    ("landed", lambda r: f"{r['landed']:,}"),
    ("duplicates", "duplicates"),
)


def table(results: list[dict[str, Any]]) -> Table:
    title = "POST /v1/requests by state: SQLite on one host, PostgreSQL on 1 and 2"
    return results_table(title, COLUMNS, results)


def main(console: Console, quick: bool = False) -> list[dict[str, Any]]:
    """Every setup, one fresh schema each; prints the table, returns the raw results."""
    from sheetqueue.config.logs import configure_logging

    configure_logging("ERROR")
    count = 500 if quick else REQUESTS
    server = start_pg_server()
    try:
        results = []
        for state, replicas in SETUPS:
            url = ""
            if state == "postgresql":
                url = server.fresh_schema()
                migrate(url)
            results.append(run(url, replicas, count))
    finally:
        server.stop()
    console.print(table(results))
    return results


if __name__ == "__main__":
    main(Console(width=160), quick="--quick" in sys.argv)
