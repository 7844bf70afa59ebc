"""Run the real ``sheetqueue`` console script as a subprocess, as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import requests

from sheetqueue.sheets.testing.emulator import Emulator

__all__ = ["CliResult", "SheetqueueCli", "cli_on_sheet", "wait_until_serving"]

SCRIPT = Path(sys.executable).with_name("sheetqueue")


@dataclass(frozen=True)
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


class SheetqueueCli:
    """A ``sheetqueue`` bound to a working folder and its own settings."""

    def __init__(self, workdir: Path, **env: str) -> None:
        self.workdir = workdir
        self.env = {
            key: value for key, value in os.environ.items() if not key.startswith("SHEETQUEUE_")
        }
        self.env.update(
            {
                "SHEETQUEUE_LOCAL_PATH": str(workdir / "queue.db"),
                "SHEETQUEUE_STATE_PATH": str(workdir / "state.db"),
                "SHEETQUEUE_NOTIFY": f"maildir:{workdir / 'outbox'}",
                "NO_COLOR": "1",
                "COLUMNS": "200",
            }
        )
        self.env.update(env)

    def __call__(self, *args: str, timeout: float = 60, **env: str) -> CliResult:
        done = subprocess.run(
            [str(SCRIPT), *args],
            cwd=self.workdir,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return CliResult(done.returncode, done.stdout, done.stderr)

    def popen(self, *args: str, **env: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(SCRIPT), *args],
            cwd=self.workdir,
            env={**self.env, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def popen_logged(self, log: IO[Any], *args: str) -> subprocess.Popen[bytes]:
        """``sheetqueue ARGS`` started, its stdout and stderr both into the open file ``log``."""
        return subprocess.Popen(
            [str(SCRIPT), *args],
            cwd=self.workdir,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def cli_on_sheet(workdir: Path, emulator: Emulator, book: str, **env: str) -> SheetqueueCli:
    """A :class:`SheetqueueCli` on spreadsheet ``book`` of the emulator, plus ``env``."""
    assert emulator.url is not None
    return SheetqueueCli(
        workdir,
        SHEETQUEUE_BACKEND="gsheets",
        SHEETQUEUE_SPREADSHEET_ID=book,
        SHEETQUEUE_SHEETS_API_URL=emulator.url,
        **env,
    )


def wait_until_serving(url: str, process: subprocess.Popen[str], seconds: float) -> None:
    """Wait for a started ``serve`` at ``url`` to answer ``/healthz`` (fail if it exits first).

    A connection refused (not listening yet) or an answer slower than a second
    (a loaded machine) is asked again, until ``seconds`` have passed.
    """
    deadline = time.monotonic() + seconds
    while True:
        try:
            requests.get(url + "/healthz", timeout=1)
            return
        except (requests.ConnectionError, requests.Timeout):
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.1)
