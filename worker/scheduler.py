"""``sheetqueue worker``: APScheduler around the plain pass.

One pass at a time (``max_instances=1``), missed runs coalesced into one, the
first pass at start. SIGTERM or SIGINT lets the pass in flight finish, then
the process exits 0. While another worker holds the store's pass lease,
each due pass logs ``lease.held_by_other`` and the loop waits for the next.

With a :class:`PassNow`, a pass can be asked for before it is due (the
sheet's edit events): asks that come while a pass is running, or before the
asked-for pass has started, are coalesced into that one pass; with a mark
in the state (another process asking), the mark is checked once a second.
The interval stays the safety net.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType
from typing import Protocol

import structlog
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger

from sheetqueue.config.clock import Clock
from sheetqueue.sheets.lease import LeaseHeld

__all__ = ["PassNow", "run_scheduled"]

log = structlog.get_logger("sheetqueue.worker")


def run_scheduled(
    job: Callable[[], object],
    interval_seconds: int,
    *,
    clock: Clock,
    stop: threading.Event | None = None,
    install_signals: bool = True,
    pass_now: PassNow | None = None,
) -> None:
    """Run ``job`` every ``interval_seconds`` until SIGTERM/SIGINT (or ``stop`` is set)."""
    stop = stop or threading.Event()
    scheduler = BackgroundScheduler(timezone=UTC)
    run = _guarded(job, clock)
    scheduler.add_job(
        pass_now.wrap(run) if pass_now is not None else run,
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
    if pass_now is not None:
        pass_now.attach(scheduler)
        if pass_now.mark is not None:
            scheduler.add_job(
                pass_now.check_mark,
                IntervalTrigger(seconds=MARK_CHECK_SECONDS, timezone=UTC),
                id="pass-wanted",
                max_instances=1,
                coalesce=True,
            )
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


MARK_CHECK_SECONDS = 1.0
"""How often the worker looks at the state's "pass wanted" mark (one cheap read)."""


class PassMark(Protocol):
    """The "pass wanted" mark in the state (see :mod:`sheetqueue.sheets.team_events`)."""

    def pass_wanted(self) -> bool: ...


class PassNow:
    """Asks for a pass now, coalesced: never two passes at once, one pass for a burst.

    :meth:`wake` is cheap and may be called from any thread. An ask made
    while no pass runs moves the pass job's next run to now; asks made while
    a pass runs (after it started, so it may not have seen their edits) give
    exactly one more pass when it ends. A pass clears what was asked before
    it started in memory; the pass itself clears the state's ``mark`` once it
    holds the lock and the lease (a pass that could not start leaves it set,
    so the next look asks again).
    """

    def __init__(self, clock: Clock, mark: PassMark | None = None) -> None:
        self.clock = clock
        self.mark = mark
        self._lock = threading.Lock()
        self._wanted = False
        self._running = False
        self._scheduler: BaseScheduler | None = None
        self.passes = 0  # passes run through this waker (asked for or scheduled)

    def attach(self, scheduler: BaseScheduler) -> None:
        self._scheduler = scheduler

    @property
    def idle(self) -> bool:
        """No pass running and none asked for."""
        with self._lock:
            return not self._running and not self._wanted

    def next_run(self) -> datetime | None:
        """When the pass job runs next (None: not scheduled)."""
        job = self._scheduler.get_job("pass") if self._scheduler is not None else None
        return job.next_run_time if job is not None else None

    def wake(self) -> None:
        """Ask for a pass as soon as one may start."""
        with self._lock:
            self._wanted = True
            if self._running:
                return
        self._poke()

    def check_mark(self) -> None:
        """The once-a-second look at the state's mark (another process asked)."""
        if self.mark is None:
            return
        try:
            wanted = self.mark.pass_wanted()
        except Exception as exc:  # the state is down: the interval still runs passes
            log.warning("pass_now.mark_unreadable", error=str(exc))
            return
        if wanted:
            self.wake()

    def wrap(self, job: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            with self._lock:
                self._running = True
                self._wanted = False
                self.passes += 1
            try:
                job()
            finally:
                with self._lock:
                    self._running = False
                    again = self._wanted
                if again:
                    self._poke()

        return run

    def _poke(self) -> None:
        scheduler = self._scheduler
        if scheduler is None or not scheduler.running:
            return
        try:
            scheduler.modify_job("pass", next_run_time=self.clock())
        except JobLookupError:  # stopping
            return
