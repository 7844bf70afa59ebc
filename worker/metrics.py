"""The metrics of one sheetqueue process, through ``prometheus_client``.

A :class:`Metrics` object is created by the composition root and handed to
whoever counts: the HTTP API, the outbox, the worker. It lives in ``worker``
so the back office can count without importing the front desk. ``sheets``
imports neither: a store that wants to count its calls takes a plain
callback, and :meth:`Metrics.sheets_hook` makes one (``hook("append", False)``).

Each object has its own registry (two in one process never mix), rendered by
:meth:`Metrics.render` in the Prometheus text format. What a pass measures
(its duration, rows by status, notices owed by channel, the time of the last
good pass) comes in through :meth:`Metrics.observe_pass`.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ["CONTENT_TYPE", "COUNTERS", "Metrics", "SheetsHook"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

SheetsHook = Callable[[str, bool], None]
"""``hook(operation, retried)``: one call to the Sheets API (a retry when ``retried``)."""

COUNTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "sheetqueue_requests_recorded_total": ("Requests accepted, by type.", ("type",)),
    "sheetqueue_requests_repeated_total": ("Requests answered as repeats, by type.", ("type",)),
    "sheetqueue_worker_passes_total": ("Worker passes finished.", ()),
    "sheetqueue_worker_problems_total": ("Rows or messages a pass could not handle.", ()),
    "sheetqueue_decisions_total": ("Eligibility decisions, by code.", ("code",)),
    "sheetqueue_notifications_sent_total": ("Messages delivered, by channel.", ("channel",)),
    "sheetqueue_notifications_maybe_total": (
        "Messages that may have been delivered (no answer came), by channel.",
        ("channel",),
    ),
    "sheetqueue_notifications_failed_total": (
        "Messages that could not be delivered, by channel.",
        ("channel",),
    ),
    "sheetqueue_team_alerts_total": ("Alerts sent to the team, by reason.", ("reason",)),
    "sheetqueue_sheets_calls_total": ("Calls to the Sheets API, by operation.", ("operation",)),
    "sheetqueue_sheets_retries_total": (
        "Sheets API calls tried again, by operation.",
        ("operation",),
    ),
    "sheetqueue_sheets_throttled_total": (
        "Sheets API calls answered 429 (quota), by operation.",
        ("operation",),
    ),
    "sheetqueue_sheet_alerts_total": ("Sheet problems the worker stopped on.", ("reason",)),
    "sheetqueue_outbox_flushes_total": ("Outbox appends to the queue, by result.", ("result",)),
    "sheetqueue_outbox_landed_total": ("Outbox rows that reached the queue.", ()),
    "sheetqueue_http_requests_total": (
        "HTTP answers, by route and status code.",
        ("route", "code"),
    ),
    "sheetqueue_lookups_limited_total": ("Lookups refused (rate or lockout).", ()),
    "sheetqueue_sheet_events_total": (
        "The sheet's edit events, by result (accepted, duplicate, unknown, refused).",
        ("result",),
    ),
}

GAUGES: dict[str, str] = {
    "sheetqueue_outbox_depth": "Requests accepted but not yet in the queue.",
    "sheetqueue_outbox_oldest_age_seconds": "Age of the oldest request waiting in the outbox.",
}

PASS_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


class Metrics:
    """Counters, callback gauges and the pass measurements of one process."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._lock = threading.Lock()
        self._counters = {
            name: Counter(name, text, labels, registry=self.registry)
            for name, (text, labels) in COUNTERS.items()
        }
        self._reads: dict[str, Callable[[], float]] = {}
        for name, text in GAUGES.items():
            gauge = Gauge(name, text, registry=self.registry)
            gauge.set_function(lambda name=name: self._read(name))  # type: ignore[misc]
        self.pass_seconds = Histogram(
            "sheetqueue_pass_duration_seconds",
            "How long one worker pass took (record and send).",
            buckets=PASS_BUCKETS,
            registry=self.registry,
        )
        self.rows = Gauge(
            "sheetqueue_rows",
            "Rows in the queue at the last pass, by status.",
            ("status",),
            registry=self.registry,
        )
        self.notices_owed = Gauge(
            "sheetqueue_notices_owed",
            "Notices owed to shoppers and not yet carried, by channel.",
            ("channel",),
            registry=self.registry,
        )
        self.last_success = Gauge(
            "sheetqueue_last_successful_pass_timestamp_seconds",
            "Unix time the last worker pass finished without raising (0: none yet).",
            registry=self.registry,
        )
        self.last_pass_at: datetime | None = None

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        """Add ``amount`` to the counter ``name`` with these labels."""
        counter = self._counter(name, tuple(sorted(labels)))
        (counter.labels(**labels) if labels else counter).inc(amount)

    def value(self, name: str, **labels: str) -> float:
        """A sample's current value (0 when never counted); counters by their ``_total`` name."""
        found = self.registry.get_sample_value(name, labels or None)
        return 0.0 if found is None else found

    def gauge(self, name: str, read: Callable[[], float]) -> None:
        """Report ``read()`` as the gauge ``name`` on every scrape (one of :data:`GAUGES`)."""
        if name not in GAUGES:
            raise KeyError(f"unknown gauge {name!r}")
        with self._lock:
            self._reads[name] = read

    def observe_pass(
        self,
        summary: Mapping[str, int],
        *,
        finished: datetime | None = None,
        seconds: float | None = None,
        statuses: Mapping[str, int] | None = None,
        owed: Mapping[str, int] | None = None,
    ) -> None:
        """Count one finished worker pass: its report, duration, rows and owed notices."""
        self.inc("sheetqueue_worker_passes_total")
        self.inc("sheetqueue_worker_problems_total", summary.get("failed", 0))
        if seconds is not None:
            self.pass_seconds.observe(seconds)
        if statuses is not None:
            self.rows.clear()
            for status, count in statuses.items():
                self.rows.labels(status=status).set(count)
        if owed is not None:
            self.notices_owed.clear()
            for channel, count in owed.items():
                self.notices_owed.labels(channel=channel).set(count)
        if finished is not None:
            self.last_pass_at = finished
            self.last_success.set(finished.timestamp())

    def sheets_hook(self) -> SheetsHook:
        """A callback a Sheets store can call once per API call."""

        def hook(operation: str, retried: bool) -> None:
            self.inc("sheetqueue_sheets_calls_total", operation=operation)
            if retried:
                self.inc("sheetqueue_sheets_retries_total", operation=operation)

        return hook

    def throttled_hook(self) -> Callable[[str], None]:
        """A callback for a Sheets call answered 429."""
        return lambda operation: self.inc("sheetqueue_sheets_throttled_total", operation=operation)

    def render(self) -> str:
        """Everything, in the Prometheus text format."""
        return generate_latest(self.registry).decode("utf-8")

    def _counter(self, name: str, labels: tuple[str, ...]) -> Counter:
        with self._lock:
            counter = self._counters.get(name)
            if counter is None:  # counted somewhere but not described above
                counter = Counter(name, name.replace("_", " "), labels, registry=self.registry)
                self._counters[name] = counter
            return counter

    def _read(self, name: str) -> float:
        with self._lock:
            read = self._reads.get(name)
        if read is None:
            return 0.0
        try:
            return float(read())
        except Exception:  # a broken gauge must not break the scrape
            return math.nan
