"""Run the Apps Script companion under Node against a real HTTP server on 127.0.0.1.

:class:`EventSink` captures every POST (headers and raw body) and answers with
the codes a test scripts; :func:`run_script` runs ``tests/apps_script_harness.js``
on a scenario and returns its report (what the script fetched, logged, stored).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sheetqueue.sheets.model import CANONICAL_HEADER

__all__ = ["HARNESS", "NODE", "EventSink", "Posted", "requests_tab", "run_script"]

HARNESS = Path(__file__).with_name("apps_script_harness.js")
NODE = shutil.which("node")


@dataclass(frozen=True)
class Posted:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def events(self) -> list[dict[str, str]]:
        events: list[dict[str, str]] = self.json()["events"]
        return events


class EventSink:
    """A real HTTP server: records each request, answers the next scripted code (then 202)."""

    def __init__(self) -> None:
        self.posted: list[Posted] = []
        self.answers: list[int] = []
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with sink._lock:
                    sink.posted.append(Posted(self.path, dict(self.headers.items()), body))
                    code = sink.answers.pop(0) if sink.answers else 202
                events = len(json.loads(body).get("events", [])) if code == 202 else 0
                answer = json.dumps({"accepted": events, "duplicates": 0, "unknown": []})
                payload = answer.encode() if code == 202 else b'{"error": "try later"}'
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def reset(self) -> None:
        with self._lock:
            self.posted.clear()
            self.answers.clear()

    def __enter__(self) -> EventSink:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def events(self) -> Iterator[dict[str, str]]:
        for posted in self.posted:
            yield from posted.events


def requests_tab(
    *rows: dict[str, str], header: tuple[str, ...] = CANONICAL_HEADER
) -> list[list[str]]:
    """A Requests tab: the header, then one line per row given as {header: value}."""
    return [list(header), *([row.get(name, "") for name in header] for row in rows)]


def run_script(
    code: Path, tabs: dict[str, list[list[str]]], steps: list[dict[str, Any]], **scenario: Any
) -> dict[str, Any]:
    """Run Code.gs under Node through the given steps; the harness's report."""
    assert NODE is not None
    document = {"code": str(code), "tabs": tabs, "steps": steps, "spreadsheet_id": "book-1"}
    document.update(scenario)
    done = subprocess.run(
        [NODE, str(HARNESS)],
        input=json.dumps(document),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout)
    return report
