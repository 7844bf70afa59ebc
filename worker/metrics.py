"""Counters and gauges of one sheetqueue process, rendered as Prometheus text.

A :class:`Metrics` object is created by the composition root (``sheetqueue
serve``) and handed to whoever counts: the HTTP API, the outbox, the worker
wrapper. It lives in ``worker`` so the back office can count without
importing the front desk. ``sheets`` imports neither: a store that wants to
count its calls takes a plain callback, and :meth:`Metrics.sheets_hook` makes
one (``hook("append", retried=False)``).

The text exposition (version 0.0.4) is written here, without a client
library: ``# HELP``/``# TYPE`` lines, then one sample per label set.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping

__all__ = ["METRIC_HELP", "Metrics", "SheetsHook"]

SheetsHook = Callable[[str, bool], None]
"""``hook(operation, retried)``: one call to the Sheets API (a retry when ``retried``)."""

METRIC_HELP: dict[str, tuple[str, str]] = {
    "sheetqueue_requests_recorded_total": ("counter", "Requests accepted, by type."),
    "sheetqueue_requests_repeated_total": ("counter", "Requests answered as repeats, by type."),
    "sheetqueue_worker_passes_total": ("counter", "Worker passes finished."),
    "sheetqueue_worker_problems_total": ("counter", "Rows or messages a pass could not handle."),
    "sheetqueue_decisions_total": ("counter", "Eligibility decisions, by code."),
    "sheetqueue_notifications_sent_total": ("counter", "Messages delivered to shoppers."),
    "sheetqueue_notifications_failed_total": ("counter", "Messages that could not be delivered."),
    "sheetqueue_sheets_calls_total": ("counter", "Calls to the Sheets API, by operation."),
    "sheetqueue_sheets_retries_total": ("counter", "Sheets API calls tried again, by operation."),
    "sheetqueue_outbox_flushes_total": ("counter", "Outbox appends to the queue, by result."),
    "sheetqueue_outbox_landed_total": ("counter", "Outbox rows that reached the queue."),
    "sheetqueue_http_requests_total": ("counter", "HTTP answers, by route and status code."),
    "sheetqueue_lookups_limited_total": (
        "counter",
        "Lookups refused (rate or lockout).",
    ),
    "sheetqueue_outbox_depth": ("gauge", "Requests accepted but not yet in the queue."),
}

_Labels = tuple[tuple[str, str], ...]


class Metrics:
    """A thread-safe registry of counters and callback gauges."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, dict[_Labels, float]] = {}
        self._gauges: dict[str, Callable[[], float]] = {}

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        """Add ``amount`` to the counter ``name`` with these labels."""
        key = tuple(sorted(labels.items()))
        with self._lock:
            samples = self._counters.setdefault(name, {})
            samples[key] = samples.get(key, 0.0) + amount

    def value(self, name: str, **labels: str) -> float:
        """The counter's current value (0 when never counted), or the gauge's reading."""
        if name in self._gauges:
            return self._gauges[name]()
        key = tuple(sorted(labels.items()))
        with self._lock:
            return self._counters.get(name, {}).get(key, 0.0)

    def gauge(self, name: str, read: Callable[[], float]) -> None:
        """Report ``read()`` as the gauge ``name`` on every scrape."""
        with self._lock:
            self._gauges[name] = read

    def observe_pass(self, summary: Mapping[str, int]) -> None:
        """Count one worker pass from its ``PassReport.summary()``."""
        self.inc("sheetqueue_worker_passes_total")
        self.inc("sheetqueue_notifications_sent_total", summary.get("notified", 0))
        self.inc("sheetqueue_worker_problems_total", summary.get("failed", 0))

    def sheets_hook(self) -> SheetsHook:
        """A callback a Sheets store can call once per API call."""

        def hook(operation: str, retried: bool) -> None:
            self.inc("sheetqueue_sheets_calls_total", operation=operation)
            if retried:
                self.inc("sheetqueue_sheets_retries_total", operation=operation)

        return hook

    def render(self) -> str:
        """Everything, in the Prometheus text format."""
        with self._lock:
            counters = {name: dict(samples) for name, samples in self._counters.items()}
            gauges = dict(self._gauges)
        lines: list[str] = []
        for name, (kind, help_text) in METRIC_HELP.items():
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
            if kind == "gauge":
                lines.append(f"{name} {_number(_read(gauges.get(name)))}")
                continue
            samples = counters.pop(name, {})
            if not samples and name not in _LABELLED:
                lines.append(f"{name} 0")
            for labels, amount in sorted(samples.items()):
                lines.append(f"{name}{_label_text(labels)} {_number(amount)}")
        for name, samples in sorted(counters.items()):  # counted but not described above
            lines += [f"# TYPE {name} counter"]
            lines += [f"{name}{_label_text(k)} {_number(v)}" for k, v in sorted(samples.items())]
        return "\n".join(lines) + "\n"


_LABELLED = {
    "sheetqueue_requests_recorded_total",
    "sheetqueue_requests_repeated_total",
    "sheetqueue_decisions_total",
    "sheetqueue_sheets_calls_total",
    "sheetqueue_sheets_retries_total",
    "sheetqueue_outbox_flushes_total",
    "sheetqueue_http_requests_total",
}


def _read(read: Callable[[], float] | None) -> float:
    if read is None:
        return 0.0
    try:
        return float(read())
    except Exception:  # a broken gauge must not break the scrape
        return math.nan


def _label_text(labels: _Labels) -> str:
    if not labels:
        return ""
    body = ",".join(f'{key}="{_escape(value)}"' for key, value in labels)
    return "{" + body + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    return str(int(value)) if value == int(value) else repr(value)
