"""``sheetqueue worker``: APScheduler around the plain pass.

One pass at a time (``max_instances=1``), missed runs coalesced into one, the
first pass at start. SIGTERM or SIGINT lets the pass in flight finish, then
the process exits 0. While another worker holds the store's pass lease,
each due pass logs ``lease.held_by_other`` and the loop waits for the next.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from datetime import UTC
from types import FrameType

import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from sheetqueue.config.clock import Clock
from sheetqueue.sheets.lease import LeaseHeld

__all__ = ["run_scheduled"]

log = structlog.get_logger("sheetqueue.worker")


def run_scheduled(
    job: Callable[[], object],
    interval_seconds: int,
    *,
    clock: Clock,
    stop: threading.Event | None = None,
    install_signals: bool = True,
) -> None:
    """Run ``job`` every ``interval_seconds`` until SIGTERM/SIGINT (or ``stop`` is set)."""
    stop = stop or threading.Event()
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.add_job(
        _guarded(job, clock),
        IntervalTrigger(seconds=interval_seconds, timezone=UTC),
        id="pass",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=interval_seconds,
        next_run_time=clock(),
    )
    if install_signals:

        def _on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("worker.stopping", signal=signal.Signals(signum).name)
            stop.set()

        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
    scheduler.start()
    log.info("worker.started", interval_seconds=interval_seconds)
    try:
        stop.wait()
    finally:
        scheduler.shutdown(wait=True)
        log.info("worker.stopped")


def _guarded(job: Callable[[], object], clock: Clock) -> Callable[[], None]:
    def run() -> None:
        try:
            job()
        except LeaseHeld as held:  # another worker has the queue: wait, and say so each pass
            log.warning(
                "lease.held_by_other",
                holder=held.holder.describe(),
                host=held.holder.host,
                pid=held.holder.pid,
                expires_in_seconds=int((held.expires - clock()).total_seconds()),
                action="waiting for the next pass",
            )
        except Exception as exc:  # a failed pass is logged; the next one runs on time
            log.error("tick.failed", error=str(exc), error_type=type(exc).__name__)

    return run
