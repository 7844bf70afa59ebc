"""What one finished pass tells the metrics: duration, rows by status, notices owed.

Kept beside :mod:`sheetqueue.worker.tick` so the pass itself only hands over
its report and how long it took.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sheetqueue.sheets.model import Status
from sheetqueue.worker.ledger import Ledger
from sheetqueue.worker.metrics import Metrics
from sheetqueue.worker.notice_records import NoticeState
from sheetqueue.worker.notified import channel_of
from sheetqueue.worker.notify.base import Notifier

__all__ = ["by_status", "observe", "owed_by_channel"]


def by_status(statuses: Iterable[str]) -> dict[str, int]:
    """How many rows stand in each status (a blank one counts as Pending)."""
    counted: Counter[str] = Counter()
    for status, count in Counter(statuses).items():  # each distinct cell text stripped once
        counted[status.strip() or Status.PENDING.value] += count
    return dict(counted)


def owed_by_channel(ledger: Ledger, notifiers: Sequence[Notifier]) -> dict[str, int]:
    """Notices still owed, per channel that has not carried them yet."""
    owed: Counter[str] = Counter({channel_of(n.name): 0 for n in notifiers})
    for (_request_id, word), record in ledger.records().items():
        if record.state is not NoticeState.PENDING:
            continue
        done = set(record.delivered) | set(record.maybe)
        untold = word.endswith(" untold")  # the team's alert: only the team carries it
        for notifier in notifiers:
            if notifier.name not in done and (not untold or channel_of(notifier.name) == "team"):
                owed[channel_of(notifier.name)] += 1
    return dict(owed)


def observe(
    metrics: Metrics,
    summary: dict[str, int],
    statuses: dict[str, int],
    *,
    ledger: Ledger,
    notifiers: Sequence[Notifier],
    started: datetime,
    seconds: float,
) -> None:
    """Hand one finished pass to the metrics."""
    metrics.observe_pass(
        summary,
        finished=started + timedelta(seconds=seconds),
        seconds=seconds,
        statuses=statuses,
        owed=owed_by_channel(ledger, notifiers),
    )
