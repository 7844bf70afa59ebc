"""Helpers for the outbox tests: a spreadsheet on the emulator, ``serve`` as a process, a bot."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx

from sheetqueue.sheets.model import CANONICAL_HEADER, LOG_HEADER
from sheetqueue.sheets.testing.emulator import Emulator
from tests.api_kit import write_orders
from tests.cli_runner import SCRIPT, SheetqueueCli

__all__ = [
    "appends",
    "eventually",
    "gsheets_cli",
    "new_book",
    "post_requests",
    "sheet_ids",
    "start_serve",
    "stop",
    "twice",
]


def new_book(emulator: Emulator, book: str | None = None) -> str:
    """A spreadsheet with the canonical ``Requests`` header and a ``Log`` tab."""
    return emulator.create_spreadsheet(
        "Queue", {"Requests": [list(CANONICAL_HEADER)], "Log": [list(LOG_HEADER)]}, book
    )


def gsheets_cli(tmp_path: Path, emulator: Emulator, book: str, **env: str) -> SheetqueueCli:
    """``sheetqueue`` on ``book`` of the emulator, orders from a file, a 1 s pass interval."""
    assert emulator.url is not None
    values = {
        "SHEETQUEUE_BACKEND": "gsheets",
        "SHEETQUEUE_SPREADSHEET_ID": book,
        "SHEETQUEUE_SHEETS_API_URL": emulator.url,
        "SHEETQUEUE_SHEETS_TIMEOUT_SECONDS": "2",
        "SHEETQUEUE_SHEETS_LANDING_SECONDS": "1",
        "SHEETQUEUE_ORDERS": f"file:{write_orders(tmp_path)}",
        "SHEETQUEUE_INTERVAL_SECONDS": "1",
    }
    values.update(env)
    return SheetqueueCli(tmp_path, **values)


def sheet_ids(emulator: Emulator, book: str) -> list[str]:
    """The Request ID of every data row of the ``Requests`` tab, in sheet order."""
    rows = emulator.values(book, "Requests")
    column = rows[0].index("Request ID")
    return [str(row[column]) for row in rows[1:] if len(row) > column and row[column]]


def twice(ids: list[str]) -> int:
    """How many rows repeat a Request ID already above them."""
    return sum(count - 1 for count in Counter(ids).values() if count > 1)


def appends(emulator: Emulator) -> int:
    """``values.append`` calls the emulator has answered."""
    return sum(1 for call in emulator.calls if call.path.endswith(":append"))


def eventually(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Wait until ``check()`` holds (polling); fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.05)


def start_serve(cli: SheetqueueCli, port: int, *args: str) -> subprocess.Popen[bytes]:
    """``sheetqueue serve --port PORT ARGS`` once it answers (its log to /dev/null)."""
    server = subprocess.Popen(
        [str(SCRIPT), "serve", "--port", str(port), *args],
        cwd=cli.workdir,
        env=cli.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def up() -> bool:
        assert server.poll() is None, "sheetqueue serve exited"
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    eventually(up, 30, "sheetqueue serve answers /healthz")
    return server


def stop(server: subprocess.Popen[bytes], how: signal.Signals = signal.SIGTERM) -> None:
    """Signal the server and wait for it to exit."""
    if server.poll() is None:
        server.send_signal(how)
    server.wait(30)


def post_requests(
    port: int, count: int, *, prefix: str, pace: float = 0.0, acked: dict[str, str] | None = None
) -> dict[str, str]:
    """Post ``count`` return requests (one Idempotency-Key each, resent until answered).

    Returns Idempotency-Key -> Request ID of every 2xx answer.
    """
    answered = acked if acked is not None else {}
    with httpx.Client(timeout=5) as client:
        for n in range(count):
            key = f"{prefix}-{n}"
            body = {
                "type": "return",
                "order_id": f"ORD-{prefix}{n:05d}",
                "email": f"{prefix}.{n}@example.com",
                "conversation_id": key,
            }
            for _attempt in range(100):
                try:
                    answer = client.post(
                        f"http://127.0.0.1:{port}/v1/requests",
                        json=body,
                        headers={"Idempotency-Key": key},
                    )
                except httpx.HTTPError:
                    time.sleep(0.05)
                    continue
                assert answer.status_code in (200, 201), answer.text
                answered[key] = str(answer.json()["request_id"])
                break
            if pace:
                time.sleep(pace)
    return answered
