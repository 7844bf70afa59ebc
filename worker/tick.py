"""One worker pass: read the queue once, re-check, write once, then tell shoppers.

A pass has two steps. The *record* step (under the pass lock):

1. reads every row (one read of the store);
2. for each open row (blank, ``Pending``, ``Eligible``) fetches the order at
   most once, decides, and plans the worker's cells; gives a blank Request ID
   one; explains an unknown status; notices the team's changes for the log;
3. plans the ``Notified`` cell (see :mod:`sheetqueue.worker.notified`): a row
   seen for the first time is marked ``seen`` (open) or ``adopted`` (already
   closed: history, never told); a status the shopper must hear about is
   marked ``owed`` in the *same write* as the status itself, so no crash can
   separate them; outcomes of earlier sends replace their ``owed`` entries;
4. stages the rendered messages in the ledger, writes every planned cell in
   one compare-and-set write (a row that changed meanwhile is skipped and
   looked at again next pass), then confirms in the ledger every notice the
   sheet now owes, rebuilding from the row any the ledger lacks (a lost
   state file, a crash between the write and the ledger).

The *send* step (:mod:`sheetqueue.worker.sending`, after the lock is
released) marks what is due ``sending`` in the cells, carries it, and writes
the outcomes into the cells. The pass lease is kept for the whole pass
(:mod:`sheetqueue.worker.inflight`): a pass that finds it lost stops there.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime

import structlog
from filelock import BaseFileLock, Timeout

from sheetqueue.config.clock import Clock, utc_now
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.lease import PassLease
from sheetqueue.sheets.model import LogEntry
from sheetqueue.sheets.orders import OrderSource
from sheetqueue.sheets.outbox import Outbox
from sheetqueue.sheets.store import (
    CellUpdate,
    QueueRead,
    Store,
    StoredRequest,
    read_queue,
)
from sheetqueue.sheets.team_events import TeamEvents
from sheetqueue.worker.adoption import Adopting
from sheetqueue.worker.collector import collector_paused
from sheetqueue.worker.inflight import LeaseGuard, mark_sending
from sheetqueue.worker.labels import (
    LabelSource,
    labels_from_settings,
)
from sheetqueue.worker.ledger import Ledger
from sheetqueue.worker.metrics import Metrics
from sheetqueue.worker.notice_records import NoticeRecord, Owed
from sheetqueue.worker.notify.base import Notifier
from sheetqueue.worker.notify.templates import Templates
from sheetqueue.worker.owing import RECEIVED_NOTICE_WITHIN
from sheetqueue.worker.pass_metrics import by_status, observe
from sheetqueue.worker.pass_plan import (
    OrderCache,
    PassReport,
    RowPlan,
    count_first_sight,
    status_after,
    team_change,
    update_for,
)
from sheetqueue.worker.row_planning import RowPlanning
from sheetqueue.worker.sending import Written, note_outcomes, send_due
from sheetqueue.worker.summary import stage_summary

__all__ = ["RECEIVED_NOTICE_WITHIN", "PassReport", "Worker", "tick"]

log = structlog.get_logger("sheetqueue.worker")


class Worker(RowPlanning):
    """The back office: everything a pass needs, built once by the composition root."""

    def __init__(
        self,
        *,
        store: Store,
        order_source: Callable[[], OrderSource],
        notifiers: Sequence[Notifier],
        ledger: Ledger,
        settings: Settings,
        templates: Templates | None = None,
        metrics: Metrics | None = None,
        outbox: Outbox | None = None,
        lease: PassLease | None = None,
        labels: LabelSource | None = None,
        team_events: TeamEvents | None = None,
    ) -> None:
        self.store = store
        self.team_events = team_events  # the sheet's edit events: who made a team change
        self.outbox = outbox  # drained into the store before each pass
        self.lease = lease  # who may run passes on the store; None: not checked
        self.order_source = order_source
        self.notifiers = list(notifiers)
        self.ledger = ledger
        self.settings = settings
        self.templates = templates or Templates(settings.templates_dir)
        self.metrics = metrics or Metrics()
        self._written: dict[str, Written] = {}
        self.labels = labels if labels is not None else labels_from_settings(settings)
        self._quiet_cells: dict[tuple[str, str], bool] = {}
        self._quiet_exact: dict[tuple[str, str], bool] = {}
        self._guard: LeaseGuard | None = None  # the lease of the pass under way (tick)

    def close(self) -> None:
        """Release what the worker holds open (its ledger, outbox); the store is the caller's."""
        self.ledger.close()
        if self.outbox is not None:
            self.outbox.close()
        if self.team_events is not None:
            self.team_events.close()

    def run_pass(self, now: datetime) -> PassReport:
        """One whole pass at ``now``: record, then send (no lock: tests and one-off runs)."""
        report = self.record_pass(now)
        self.send(now, report)
        return report

    @collector_paused()
    def record_pass(
        self, now: datetime, *, adopt_only: bool = False, dry_run: bool = False
    ) -> PassReport:
        """The record step.

        With ``adopt_only`` it only marks the rows it sees for the first time, as
        history, owing nothing (``sheetqueue adopt``); with ``dry_run`` it writes
        nothing and reports what it would have done.
        """
        report = PassReport()
        self.store.ensure_header()
        rows = read_queue(self.store)
        report.rows = len(rows)
        orders = OrderCache(self.order_source)
        seen = self.ledger.seen()
        records = self.ledger.records()
        pending = {request_id for (request_id, _), r in records.items() if not r.state.finished}
        updates: list[CellUpdate] = []
        observed: list[LogEntry] = []
        plans: dict[int, RowPlan] = {}
        planned: list[StoredRequest] = []
        seen_now: dict[str, str] = {}
        adopting = Adopting(rows, report, dry_run, now)
        ids, statuses, cells = (
            rows.texts("request_id"),
            rows.texts("status"),
            rows.texts("notified"),
        )
        for index, request_id in enumerate(ids):
            request_id = request_id.strip()
            if not adopt_only and request_id and self._quiet(statuses[index], cells[index]):
                status = statuses[index]
                before = seen.get(request_id)
                if before != status:  # changed since last pass (or never remembered)
                    if before is not None:
                        observed.extend(team_change(rows[index], before, now))
                    seen_now[request_id] = status
                elif request_id in seen_now:  # a second row with this ID: the last one wins
                    seen_now[request_id] = status
                continue
            stored = rows[index]
            plan = self._first_sight(stored, now) or self._plan_row(
                stored, now, orders, records, report, adopt_only
            )
            if request_id and plan.new_status == "":
                observed.extend(team_change(stored, seen.get(request_id), now))
                seen_now[request_id] = stored.text("status")
            adoptable = plan.adopted and request_id and not plan.notices
            if adoptable and request_id not in pending and adopting.take(index, plan):
                continue  # history: written in parts once the read is let go
            plans[stored.ref.position] = plan
            planned.append(stored)
            if plan.values:
                updates.append(update_for(stored, plan))
        report.planned = len(updates) + adopting.planned
        if dry_run:
            return _counted_dry(report, plans)
        observed = self._with_editors(observed)
        summary = stage_summary(
            self.store,
            rows,
            {position: plan.values for position, plan in plans.items()},
            now,
            review_after_days=self.settings.review_after_days,
            zone=self.settings.zone,
        )
        del orders  # the rows are decided: let the Orders tab go,
        rows.release()  # and every cell but the three columns read above
        adopting.write(self.store, self._renew)
        if updates or observed or summary is not None:  # a quiet pass writes nothing
            self._renew("record write")
        self._write_plans(
            rows, planned, plans, updates, observed, seen, seen_now, records, report, now
        )
        if report.adopted:
            log.info(
                "tick.adopted",
                **{k.lower().replace(" ", "_"): v for k, v in report.adopted.items()},
            )
        log.info("tick.recorded", **report.summary(), skipped_rows=report.skipped_rows)
        return report

    def _write_plans(
        self,
        rows: QueueRead,
        planned: Sequence[StoredRequest],
        plans: dict[int, RowPlan],
        updates: list[CellUpdate],
        observed: list[LogEntry],
        seen: dict[str, str],
        seen_now: dict[str, str],
        records: dict[tuple[str, str], NoticeRecord],
        report: PassReport,
        now: datetime,
    ) -> None:
        """Stage the notices, write every planned cell at once, then settle the ledger.

        ``records`` is the ledger as the pass read it: under the pass lock no
        other record step adds to it, and staging adds only staged notices.
        """
        self.ledger.stage([self._message(n) for plan in plans.values() for n in plan.notices], now)
        result = self.store.update_cells(updates, log=observed)
        report.skipped_rows += len(result.skipped)
        applied = {ref.position for ref in result.applied}
        skipped = {ref.position for ref in result.skipped}
        for ref in result.applied:
            plan = plans[ref.position]
            if plan.new_status:
                report.changed += 1
            count_first_sight(report, plan)
            if plan.request is not None:
                seen_now[plan.request.request_id] = plan.request.status
        report.statuses = by_status(_statuses_after(rows, planned, plans, applied))
        changed_seen = {k: v for k, v in seen_now.items() if seen.get(k) != v}
        self._confirm_owed(rows, planned, plans, applied, skipped, records, now, changed_seen)

    def end_guard(self) -> None:
        """The pass is over: its lease guard goes (the lease itself runs out on its own)."""
        self._guard = None

    def _renew(self, step: str) -> None:
        """Keep the pass lease before a write; a pass that lost it stops (raises)."""
        if self._guard is not None and not self._guard.renew_if_long(step):
            assert self._guard.error is not None
            raise self._guard.error

    def send(self, now: datetime, report: PassReport, lock: BaseFileLock | None = None) -> None:
        """The send step: mark what is due, carry it, then note the outcomes in the cells."""
        guard = self._guard

        def mark(claimed: list[Owed]) -> list[Owed]:
            if guard is not None and not guard.renew("send"):
                return []
            return mark_sending(
                self.store, self.ledger, self._written, self.notifiers, claimed, now, lock
            )

        def keep() -> bool:  # a long send step keeps its lease as it runs
            return guard is None or guard.renew_if_long("send step")

        sent = send_due(
            self.ledger, self.notifiers, self.settings, now, self.metrics, mark=mark, keep=keep
        )
        report.notified += sent.notified
        report.failed += sent.failed
        report.maybe_delivered += sent.maybe
        report.postponed += sent.postponed
        note_outcomes(
            self.store,
            self.ledger,
            self._written,
            lock,
            untold=self._team_alerts,
            keep=None if guard is None else lambda: guard.renew_if_long("outcome write"),
        )
        stopped = {"stopped": "lease lost"} if guard is not None and guard.lost else {}
        log.info("tick.finished", **report.summary(), skipped_rows=report.skipped_rows, **stopped)

    def _with_editors(self, observed: list[LogEntry]) -> list[LogEntry]:
        """The team's changes seen, each by its editor when the sheet's events named one."""
        if self.team_events is None or not observed:
            return observed
        named = self.team_events.editors((e.request_id, e.to_status) for e in observed)
        return [
            e.model_copy(update={"by": named[(e.request_id, e.to_status)]})
            if e.by == "team" and (e.request_id, e.to_status) in named
            else e
            for e in observed
        ]


def _counted_dry(report: PassReport, plans: dict[int, RowPlan]) -> PassReport:
    """A dry run's report: the first sights it would have written, counted."""
    for plan in plans.values():
        count_first_sight(report, plan)
    return report


def _statuses_after(
    rows: QueueRead,
    planned: Sequence[StoredRequest],
    plans: dict[int, RowPlan],
    applied: set[int],
) -> list[str]:
    """Every row's status after the pass's write (the cell as read unless the write moved it)."""
    statuses = rows.texts("status")
    moved = [(s, plans[s.ref.position]) for s in planned if s.ref.position in applied]
    if not any(plan.request is not None for _, plan in moved):
        return statuses
    index = {position: i for i, position in enumerate(rows.positions)}
    after = list(statuses)
    for stored, plan in moved:
        after[index[stored.ref.position]] = status_after(stored, plan, applied)
    return after


def tick(
    worker: Worker, now: datetime, lock: BaseFileLock, *, wait: float = 0, clock: Clock = utc_now
) -> PassReport | None:
    """One pass: the record step under the store's pass lock, then the send step outside it.

    Returns None, having done nothing, when another pass still holds the lock
    after ``wait`` seconds. What cron ``tick``, ``worker`` and ``serve`` all run.
    First the outbox (requests accepted by the API) is drained into the store,
    so a cron tick alone lands what was accepted. Raises
    :class:`~sheetqueue.sheets.lease.LeaseHeld`, having passed nothing, when
    another worker holds the store's pass lease. The lease is renewed during
    the pass (``clock`` gives the time of each renewal); if another worker has
    it by then, the pass stops before sending and logs ``lease.lost``.
    """
    started = time.perf_counter()
    if worker.outbox is not None:
        worker.outbox.drain_logged(worker.store, now)
    try:
        with lock.acquire(timeout=wait):
            if worker.lease is not None:
                worker._guard = LeaseGuard(worker.lease, clock)
                worker._guard.begin(now)
            log.info("tick.started")
            if worker.team_events is not None:  # asks made before this read are covered
                worker.team_events.clear_pass_wanted()
            try:
                report = worker.record_pass(now)
            except BaseException:
                worker.end_guard()
                raise
    except Timeout:
        log.info("tick.skipped", reason="another pass holds the lock")
        return None
    try:
        worker.send(now, report, lock)
    finally:
        worker.end_guard()
    observe(
        worker.metrics,
        report.summary(),
        report.statuses,
        ledger=worker.ledger,
        notifiers=worker.notifiers,
        started=now,
        seconds=time.perf_counter() - started,
    )
    return report
