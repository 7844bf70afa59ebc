"""Readiness: a worker whose last good pass is too old, and a store that cannot be reached."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sheetqueue.config.errors import StoreError
from sheetqueue.worker.health import Readiness
from sheetqueue.worker.metrics import Metrics

START = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)


class _Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def test_ready_until_the_last_good_pass_is_older_than_the_allowed_intervals() -> None:
    """Interval 60 s, 3 missed allowed: ready at 180 s after the last pass, not at 181 s."""
    clock, metrics = _Clock(), Metrics()
    readiness = Readiness(metrics, clock=clock, interval_seconds=60, max_missed=3)
    metrics.observe_pass({}, finished=START)
    clock.now = START + timedelta(seconds=180)
    assert readiness.check() == {"ready": True, "checks": {"worker": "ok"}}
    clock.now = START + timedelta(seconds=181)
    state = readiness.check()
    assert state["ready"] is False
    assert "last successful pass 181 s ago" in state["checks"]["worker"]


def test_before_any_pass_the_start_counts_as_the_last_pass() -> None:
    """A worker that never finished a pass turns not ready once the allowance since start ends."""
    clock, metrics = _Clock(), Metrics()
    readiness = Readiness(metrics, clock=clock, interval_seconds=10, max_missed=2)
    assert readiness.check()["ready"] is True
    clock.now = START + timedelta(seconds=21)
    assert "no successful pass" in readiness.check()["checks"]["worker"]


def test_a_failing_probe_is_not_ready_and_its_answer_is_kept_for_a_while() -> None:
    """The store probe runs at most once per probe_every seconds; its failure is named."""
    clock, calls = _Clock(), []
    broken = [True]

    def probe() -> None:
        calls.append(clock.now)
        if broken[0]:
            raise StoreError("the Sheets API answered 503")

    readiness = Readiness(Metrics(), clock=clock, probe=probe, probe_every=10)
    assert readiness.check()["checks"]["store"].startswith("cannot reach the store: the Sheets")
    broken[0] = False
    assert readiness.check()["ready"] is False  # the kept answer
    clock.now = START + timedelta(seconds=10)
    assert readiness.check() == {"ready": True, "checks": {"store": "ok"}}
    assert len(calls) == 2
