"""Liveness, readiness and ``/metrics`` for a process that runs no HTTP API.

:class:`Readiness` answers "should traffic and alerts trust this process?":
not ready when the store cannot be reached (a cheap probe, its answer kept
for ``probe_every`` seconds so scrapes do not spend the Sheets quota), or
when a worker runs here and its last successful pass is older than
``max_missed`` intervals (counted from the start before the first pass).

:class:`HealthServer` serves ``/metrics``, ``/healthz`` and ``/readyz`` on
a plain ``http.server`` in a daemon thread (``sheetqueue worker
--metrics-port``); ``sheetqueue serve`` answers the same routes itself.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import structlog

from sheetqueue.config.clock import Clock
from sheetqueue.config.errors import SheetqueueError
from sheetqueue.sheets.outbox import Outbox
from sheetqueue.sheets.times import parse_time
from sheetqueue.worker.metrics import CONTENT_TYPE, Metrics

__all__ = ["HealthServer", "Readiness", "watch_outbox"]

log = structlog.get_logger("sheetqueue.health")

Probe = Callable[[], None]
"""Reach the store once; raise :class:`SheetqueueError` when it cannot be reached."""


@dataclass
class _Probed:
    at: datetime
    problem: str | None


class Readiness:
    """Whether this process is doing its job; see the module docstring."""

    def __init__(
        self,
        metrics: Metrics,
        *,
        clock: Clock,
        probe: Probe | None = None,
        interval_seconds: float | None = None,
        max_missed: int = 3,
        probe_every: float = 10.0,
    ) -> None:
        self.metrics = metrics
        self.clock = clock
        self.probe = probe
        self.interval_seconds = interval_seconds  # None: no worker runs in this process
        self.max_missed = max_missed
        self.probe_every = probe_every
        self.started = clock()
        self._probed: _Probed | None = None
        self._lock = threading.Lock()

    def check(self) -> dict[str, Any]:
        """``{"ready": bool, "checks": {name: "ok" | problem}}``."""
        checks: dict[str, str] = {}
        if self.probe is not None:
            checks["store"] = self._store_problem(self.probe) or "ok"
        if self.interval_seconds is not None:
            checks["worker"] = self._pass_problem(self.interval_seconds) or "ok"
        return {"ready": all(v == "ok" for v in checks.values()), "checks": checks}

    def _pass_problem(self, interval: float) -> str | None:
        now = self.clock()
        last = self.metrics.last_pass_at
        since = last or self.started
        allowed = interval * self.max_missed
        age = (now - since).total_seconds()
        if age <= allowed:
            return None
        if last is None:
            return f"no successful pass in the {int(age)} s since start (allowed {int(allowed)} s)"
        return f"last successful pass {int(age)} s ago (allowed {int(allowed)} s)"

    def _store_problem(self, probe: Probe) -> str | None:
        with self._lock:
            now = self.clock()
            cached = self._probed
            if cached is not None and (now - cached.at).total_seconds() < self.probe_every:
                return cached.problem
            try:
                probe()
                problem = None
            except SheetqueueError as exc:
                problem = f"cannot reach the store: {exc}"
            if problem is not None and (cached is None or cached.problem is None):
                log.warning("health.store_unreachable", error=problem)
            self._probed = _Probed(now, problem)
            return problem


def watch_outbox(metrics: Metrics, outbox: Outbox, clock: Clock) -> None:
    """Report the outbox's depth and the age of its oldest waiting request."""

    def oldest_age() -> float:
        since = parse_time(outbox.oldest_waiting())
        return 0.0 if since is None else max(0.0, (clock() - since).total_seconds())

    metrics.gauge("sheetqueue_outbox_depth", outbox.depth)
    metrics.gauge("sheetqueue_outbox_oldest_age_seconds", oldest_age)


class HealthServer:
    """``/metrics``, ``/healthz`` and ``/readyz`` on ``host:port`` in a daemon thread."""

    def __init__(self, metrics: Metrics, readiness: Readiness, host: str, port: int) -> None:
        handler = _handler(metrics, readiness)
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="sheetqueue-metrics", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> HealthServer:
        self._thread.start()
        log.info("metrics.started", port=self.port)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _handler(metrics: Metrics, readiness: Readiness) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.partition("?")[0]
            if path == "/metrics":
                self._answer(200, metrics.render().encode(), CONTENT_TYPE)
            elif path == "/healthz":
                self._json(200, {"status": "ok"})
            elif path == "/readyz":
                state = readiness.check()
                self._json(200 if state["ready"] else 503, state)
            else:
                self._json(404, {"error": "not found; try /metrics, /healthz or /readyz"})

        def _json(self, code: int, body: dict[str, Any]) -> None:
            self._answer(code, json.dumps(body).encode(), "application/json")

        def _answer(self, code: int, body: bytes, content_type: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return None  # scrapes are not worth a log line each

    return Handler
