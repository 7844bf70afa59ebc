"""The API's flusher: a thread that drains the outbox while ``sheetqueue serve`` runs.

The outbox itself (the SQLite file of accepted rows and its idempotent drain)
is :mod:`sheetqueue.sheets.outbox`; every process drains it with the same
:meth:`~sheetqueue.sheets.outbox.Outbox.drain`. This thread only decides
when: at once after a request is accepted, at least ``interval`` seconds
apart (a sheet's write quota is per minute), when held rows come due, and
with a growing pause while the store fails.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable

import structlog

from sheetqueue.config.clock import Clock
from sheetqueue.sheets.outbox import Outbox
from sheetqueue.sheets.store import Store
from sheetqueue.worker.metrics import Metrics

__all__ = ["Flusher"]

log = structlog.get_logger("sheetqueue.outbox")


class Flusher:
    """A thread that moves waiting rows from the outbox to the store.

    At most one append every ``interval`` seconds, up to ``batch_size`` rows
    each; woken at once when a request is accepted, and every ``poll``
    seconds for rows other processes accepted. After a failure it waits
    ``interval * 2**n`` (capped at ``max_backoff``, with jitter) and tries
    again, forever: rows are never dropped. The store is opened by
    ``open_store`` on the flusher's own thread and closed there.
    """

    def __init__(
        self,
        outbox: Outbox,
        open_store: Callable[[], Store],
        *,
        batch_size: int = 500,
        interval: float = 1.0,
        max_backoff: float = 60.0,
        poll: float = 5.0,
        clock: Clock,
        metrics: Metrics | None = None,
    ) -> None:
        self.outbox = outbox
        self.batch_size = batch_size
        self.interval = interval
        self.max_backoff = max_backoff
        self.poll = poll
        self.failures = 0
        self._open_store = open_store
        self._clock = clock
        self._metrics = metrics or Metrics()
        self._store: Store | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        outbox.on_accept(self._wake.set)

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sheetqueue-outbox", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Flush now rather than at the next poll."""
        self._wake.set()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until the outbox is empty (for tests and scripts); True when it is."""
        end = threading.Event()
        for _ in range(max(1, int(timeout / 0.02))):
            if self.outbox.depth() == 0:
                return True
            self._wake.set()
            end.wait(0.02)
        return self.outbox.depth() == 0

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after one last best-effort drain (rows left wait in the file)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                pause, idle = self._cycle()
                if pause > 0:
                    self._stop.wait(pause)
                if not self._stop.is_set():
                    self._wake.wait(idle)
                    self._wake.clear()
            self._final_drain()
        finally:
            if self._store is not None:
                self._store.close()

    def _cycle(self) -> tuple[float, float]:
        """One append; the pause before the next, and the longest wait for a wake-up after it."""
        now = self._clock()
        try:
            if self._store is None:
                self._store = self._open_store()
            drained = self.outbox.drain(self._store, now, batch_size=self.batch_size, batches=1)
        except Exception as exc:  # a failing store must not kill the thread
            self.failures += 1
            self._metrics.inc("sheetqueue_outbox_flushes_total", result="failed")
            pause: float = min(self.max_backoff, self.interval * 2.0 ** min(self.failures, 30))
            pause *= random.uniform(0.5, 1.0)
            log.warning(
                "outbox.flush_failed",
                error=str(exc),
                error_type=type(exc).__name__,
                failures=self.failures,
                retry_in=round(pause, 2),
            )
            self._wake.set()
            return pause, self.poll
        self.failures = 0
        if drained.busy:  # another process is draining: look again shortly
            self._wake.set()
            return self.interval, self.poll
        if drained.appends:
            self._metrics.inc("sheetqueue_outbox_flushes_total", result="ok")
        if drained.landed:
            self._metrics.inc("sheetqueue_outbox_landed_total", drained.landed)
        if drained.landed >= self.batch_size:
            self._wake.set()
        idle = self.poll if drained.due_in is None else min(self.poll, drained.due_in + 0.05)
        return (self.interval if drained.appends else 0.0), idle

    def _final_drain(self) -> None:
        try:
            if self._store is None:
                self._store = self._open_store()
            self.outbox.drain(self._store, self._clock(), batch_size=self.batch_size)
        except Exception as exc:  # best effort: the rows stay in the file
            log.warning("outbox.final_flush_failed", error=str(exc), left=self.outbox.depth())
