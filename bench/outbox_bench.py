"""The outbox under Google's quota, beside one append per request.

``python -m bench outbox`` (or ``python -m bench.outbox_bench [--quick]``):

1. ``outbox``: 3,000 ``POST /v1/requests`` paced over 60 seconds (50/s, 6
   client threads) to a real ``sheetqueue serve`` on the gsheets backend, the
   emulator holding Google's quota of 60 read and 60 write requests per
   minute. Every accepted row must land exactly once within two minutes of
   the last answer: the emulator's cells are polled (outside the quota) and
   Request IDs counted.
2. ``plain``: the same paced load, each request doing its own
   ``values.append`` through gspread (the pattern of a chat platform's own
   Sheets action), without retry, on a fresh sheet under the same quota.
   Whatever Google refuses (429) is lost unless the bot retries.

``--quick`` runs 1,000 requests over 20 seconds.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import gspread
from gspread.exceptions import APIError
from gspread.utils import InsertDataOption, ValueInputOption
from rich.console import Console
from rich.table import Table

from bench.serving import (
    Cell,
    Load,
    count_rows,
    gsheets_env,
    new_book,
    percentile_ms,
    post_request,
    record_body,
    results_table,
    run_load,
    serve,
    sheet_ids,
    wait_landed,
)
from sheetqueue.sheets.model import CANONICAL_HEADER
from sheetqueue.sheets.testing.emulator import Emulator, emulator_client

__all__ = ["main", "run_outbox", "run_plain"]

THREADS = 6
QUOTA = 60
LANDING_LIMIT = 120.0


def _summary(pattern: str, load: Load, count: int, emulator: Emulator) -> dict[str, Any]:
    counts = emulator.counts()
    return {
        "pattern": pattern,
        "sent": count,
        "load_seconds": round(load.seconds, 1),
        "accepted": len(load.accepted_ids),
        "refused": count - len(load.accepted_ids),
        "refusals": {k: v for k, v in load.statuses.items() if k != "ok"},
        "p50_ms": percentile_ms(load.latencies, 0.50),
        "p99_ms": percentile_ms(load.latencies, 0.99),
        "sheets_calls": counts["total"],
        "sheets_429": counts.get("429", 0),
    }


def run_outbox(count: int, seconds: float) -> dict[str, Any]:
    """The paced load through ``sheetqueue serve`` and its outbox, under the quota."""
    with tempfile.TemporaryDirectory() as tmp, Emulator() as emulator:
        book, env = gsheets_env(emulator)
        with serve(env, Path(tmp)) as url:
            emulator.set_quota(read_per_minute=QUOTA, write_per_minute=QUOTA)
            emulator.reset_log()
            load = run_load(
                post_request(url, "outbox"), count, threads=THREADS, rate=count / seconds
            )
            landing = wait_landed(
                lambda: sheet_ids(emulator, book), load.accepted_ids, load.finished, LANDING_LIMIT
            )
            result = _summary("outbox (sheetqueue serve)", load, count, emulator)
        distinct, duplicates = count_rows(sheet_ids(emulator, book))
    result.update(
        landed=landing.landed,
        missing=landing.missing,
        duplicates=max(duplicates, landing.duplicates),
        rows_in_sheet=distinct,
        landed_after_s=landing.seconds_after_last,
    )
    return result


def run_plain(count: int, seconds: float) -> dict[str, Any]:
    """The same load, one ``values.append`` per request straight through gspread."""
    with Emulator() as emulator:
        book = new_book(emulator)
        assert emulator.url is not None
        sheets = [
            emulator_client(emulator.url, 30).open_by_key(book).worksheet("Requests")
            for _ in range(THREADS)
        ]
        emulator.set_quota(read_per_minute=QUOTA, write_per_minute=QUOTA)
        emulator.reset_log()
        pool = iter(sheets)
        load = run_load(
            _append_one,
            count,
            threads=THREADS,
            rate=count / seconds,
            open_client=lambda: _Borrowed(next(pool)),
        )
        result = _summary("one append per request (plain gspread)", load, count, emulator)
        ids = sheet_ids(emulator, book)
    distinct, duplicates = count_rows(ids)
    result.update(
        landed=len(set(load.accepted_ids) & set(ids)),
        missing=len(set(load.accepted_ids) - set(ids)),
        duplicates=duplicates,
        rows_in_sheet=distinct,
        landed_after_s=0.0,
    )
    return result


class _Borrowed:
    """A worksheet handed to one client thread (``run_load`` closes its client at the end)."""

    def __init__(self, sheet: gspread.Worksheet) -> None:
        self.sheet = sheet

    def close(self) -> None:
        self.sheet.client.session.close()


def _append_one(client: _Borrowed, n: int) -> tuple[str, str]:
    body = record_body("plain", n)
    request_id = f"REQ-PLAIN{n:011d}"
    row = {"request_id": request_id, "status": "Pending", **body}
    values = [row.get(name.lower().replace(" ", "_"), "") for name in CANONICAL_HEADER]
    cells = [v if isinstance(v, str) else json.dumps(v) for v in values]
    try:
        client.sheet.append_row(
            cells,
            value_input_option=ValueInputOption.raw,
            insert_data_option=InsertDataOption.insert_rows,
            table_range="A1",
        )
    except APIError as exc:
        return f"HTTP {exc.code}", ""
    return "ok", request_id


def table(results: list[dict[str, Any]]) -> Table:
    """Both patterns side by side."""
    title = (
        f"{results[0]['sent']:,} requests in {results[0]['load_seconds']} s "
        f"({THREADS} client threads) against a sheet with {QUOTA} writes/min and {QUOTA} reads/min"
    )
    columns: list[tuple[str, Cell]] = [
        ("pattern", "pattern"),
        ("accepted", lambda r: f"{r['accepted']:,}"),
        ("refused", lambda r: f"{r['refused']:,}"),
        ("p50 ms", "p50_ms"),
        ("p99 ms", "p99_ms"),
        ("rows landed", lambda r: f"{r['landed']:,}"),
        ("duplicates", "duplicates"),
        ("all in after last answer, s", _after),
        ("Sheets calls", "sheets_calls"),
        ("429s from Sheets", "sheets_429"),
    ]
    return results_table(title, columns, results)


def _after(result: dict[str, Any]) -> str:
    if result["pattern"].startswith("one append"):
        return "-"
    if result["landed_after_s"] is None:
        return f"[red]{result['missing']} missing after {LANDING_LIMIT:.0f} s[/]"
    return str(result["landed_after_s"])


def main(console: Console, quick: bool = False) -> list[dict[str, Any]]:
    """Run both patterns and print the table; returns the raw results."""
    from sheetqueue.config.logs import configure_logging

    configure_logging("ERROR")
    count, seconds = (1_000, 20.0) if quick else (3_000, 60.0)
    results = [run_outbox(count, seconds), run_plain(count, seconds)]
    console.print(table(results))
    return results


if __name__ == "__main__":
    main(Console(width=160), quick="--quick" in sys.argv)
