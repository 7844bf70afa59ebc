"""``demo --backend gsheets`` and ``sheetqueue emulator``: the Google path, offline."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from rich.console import Console

from sheetqueue.demo.gsheets import run_gsheets_demo
from tests.cli_runner import SheetqueueCli
from tests.factories import BASE


def test_gsheets_demo_plays_the_loop_and_counts_api_calls(tmp_path: Path) -> None:
    """The whole loop runs through gspread on the emulator; the call count is printed."""
    out = io.StringIO()
    counts = run_gsheets_demo(tmp_path, Console(file=out, width=200), BASE)
    text = out.getvalue()
    assert "Worker pass:" in text and "'changed': 7" in text
    assert f"Sheets API calls: {counts['total']}" in text
    assert counts["failed"] == 0 and 10 < counts["total"] < 80
    assert len(list((tmp_path / "outbox" / "new").iterdir())) == 2


def test_emulator_command_serves_on_the_port_it_announces(tmp_path: Path) -> None:
    """``sheetqueue emulator --port 0`` prints its URL and answers there until stopped."""
    cli = SheetqueueCli(tmp_path)
    process = cli.popen("emulator", "--port", "0")
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        url = first.split(" on ", 1)[1].strip()
        assert _health(url) == {"ok": True}
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
        if process.stderr is not None:
            process.stderr.close()


def _health(url: str) -> object:
    """The health answer, waiting for the server to start listening (bound is announced first)."""
    deadline = time.monotonic() + 10
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_emulator/health", timeout=5) as answer:  # noqa: S310
                return json.loads(answer.read())
        except urllib.error.URLError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
