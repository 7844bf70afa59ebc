"""``make bench``: run every benchmark, each in its own process, and print the tables.

``python -m bench`` runs all; ``python -m bench pass`` only the pass benchmark
(10k / 50k / 100k rows); ``--sizes 1000,10000`` changes the row counts;
``python -m bench notices`` renders, records and sends notices; ``--quick``
keeps every part small.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

SIZES = (10_000, 50_000, 100_000)
QUICK_SIZES = (1_000, 10_000)
console = Console(width=max(Console().width, 140))


def _run(module: str, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr else "failed"}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def _mb(value: Any) -> str:
    return "-" if value is None else f"{value / 1e6:.1f}"


def pass_table(sizes: list[int], backends: list[str]) -> Table:
    table = Table(
        title="Worker passes over N rows, 98 % closed: 1st decides the open rows and marks the "
        "closed ones seen, 2nd records the messages sent, quiet has nothing to do"
    )
    for column in (
        "backend",
        "rows",
        "1st s",
        "1st CPU s",
        "decisions / CPU s",
        "1st calls",
        "2nd s",
        "quiet s",
        "quiet CPU s",
        "json.loads CPU s",
        "quiet ratio",
        "ratio, collector off",
        "quiet calls",
        "MB read / quiet pass",
        "peak RSS MB",
    ):
        table.add_column(column, justify="right")
    for backend in backends:
        for size in sizes:
            result = _run("bench.pass_bench", backend, str(size))
            if "error" in result:
                table.add_row(backend, f"{size:,}", f"[red]{result['error']}[/]")
                continue
            table.add_row(
                backend,
                f"{size:,}",
                str(result["first_seconds"]),
                str(result["first_cpu"]),
                f"{result['decisions_per_cpu_s']:,}",
                str(result.get("first_calls", "-")),
                str(result["second_seconds"]),
                str(result["quiet_seconds"]),
                str(result["quiet_cpu"]),
                str(result.get("json_loads_cpu", "-")),
                str(result.get("quiet_ratio", "-")),
                str(result.get("quiet_ratio_collector_off", "-")),
                str(result.get("quiet_calls", "-")),
                _mb(result.get("quiet_bytes")),
                str(result["peak_rss_mb"]),
            )
    return table


def notice_table(count: int) -> Table:
    table = Table(title=f"Notices: rendering and recording, then {count:,} emails to local SMTP")
    for column in (
        "render + record µs (CPU) / notice",
        "emails",
        "send s",
        "received",
        "SMTP sessions",
        "concurrency",
    ):
        table.add_column(column, justify="right")
    result = _run("bench.notice_bench", str(count))
    if "error" in result:
        table.add_row(f"[red]{result['error']}[/]")
        return table
    table.add_row(
        str(result["render_record_us"]),
        f"{result['emails']:,}",
        str(result["send_seconds"]),
        f"{result['received']:,}",
        str(result["connections"]),
        str(result["concurrency"]),
    )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("only", nargs="*", help="pass, notices, api, outbox, state (default: all)")
    parser.add_argument("--sizes", default=None, help="row counts of the pass benchmark")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smaller runs (pass: 1k/10k rows; notices: 200 emails; outbox: 20 s)",
    )
    options = parser.parse_args()
    wanted = set(options.only or ["pass", "notices", "api", "outbox", "state"])
    default_sizes = QUICK_SIZES if options.quick else SIZES
    sizes = [int(s) for s in (options.sizes or ",".join(map(str, default_sizes))).split(",")]
    console.print(f"Machine: {machine()}")
    if "pass" in wanted:
        console.print(pass_table(sizes, ["local", "gsheets"]))
    if "notices" in wanted:
        console.print(notice_table(200 if options.quick else 1_000))
    benchmarks = (("api", "bench.api_bench"), ("outbox", "bench.outbox_bench"))
    for name, module in (*benchmarks, ("state", "bench.state_bench")):
        if name in wanted:
            try:
                __import__(module)
            except ModuleNotFoundError:
                console.print(f"[yellow]{name}: benchmark not built yet[/]")
                continue
            sys.modules[module].main(console, quick=options.quick)


if __name__ == "__main__":
    main()
