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

import re
import time
from collections.abc import Callable, Sequence
from datetime import datetime

import structlog
from filelock import BaseFileLock, Timeout

from sheetqueue.config.clock import Clock, utc_now
from sheetqueue.config.errors import OrderSourceError
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.lease import PassLease
from sheetqueue.sheets.model import OPEN_FOR_WORKER, LogEntry, Request, Status, new_request_id
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
from sheetqueue.sheets.times import format_time
from sheetqueue.worker.adoption import ADOPTED_NOTE, Adopting
from sheetqueue.worker.collector import collector_paused
from sheetqueue.worker.eligibility import Decision, decide
from sheetqueue.worker.inflight import LeaseGuard, mark_sending
from sheetqueue.worker.labels import (
    LabelSource,
    approval_ships_back,
    labels_from_settings,
)
from sheetqueue.worker.ledger import Ledger
from sheetqueue.worker.metrics import Metrics
from sheetqueue.worker.notice_records import NoticeRecord, Owed
from sheetqueue.worker.notified import (
    adopted_entry,
    parse,
    seen_entry,
)
from sheetqueue.worker.notify.base import Notifier
from sheetqueue.worker.notify.templates import Templates
from sheetqueue.worker.owing import RECEIVED_NOTICE_WITHIN, NoticeOwing
from sheetqueue.worker.pass_metrics import by_status, observe
from sheetqueue.worker.pass_plan import (
    OrderCache,
    PassReport,
    RowPlan,
    count_first_sight,
    status_after,
    team_change,
    update_for,
    with_sentence,
)
from sheetqueue.worker.sending import Written, catch_up, note_outcomes, send_due
from sheetqueue.worker.summary import stage_summary
from sheetqueue.worker.transitions import worker_move

__all__ = ["RECEIVED_NOTICE_WITHIN", "PassReport", "Worker", "tick"]

log = structlog.get_logger("sheetqueue.worker")

_KNOWN = ", ".join(status.value for status in Status)

_TIMES = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_QUIET_MEMO_SIZE = 4096


class Worker(NoticeOwing):
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
            for plan in plans.values():
                count_first_sight(report, plan)
            return report
        observed = self._with_editors(observed)
        stage_summary(
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
        self._renew("record write")
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
        if guard is None or guard.renew_if_long("outcome write"):
            note_outcomes(self.store, self.ledger, self._written, lock, untold=self._team_alerts)
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

    # -- planning -------------------------------------------------------------

    def _quiet(self, status: str, notified: str) -> bool:
        """Whether a row (with a Request ID) needs nothing this pass, from two cells alone.

        Quiet: a status the worker does not re-check, a ``Notified`` cell the
        worker wrote that owes nothing, says every notice the status wants and
        has no given-up notice to mention. Most rows of a sheet are such
        history; they are never turned into models. Anything else goes
        through :meth:`_plan_row`. Whether a cell is quiet does not depend on
        its times, so the answer is kept per (status, cell without times); a
        pass adopts a sheet at one time, so the exact cells repeat too and are
        kept first.
        """
        exact = (status, notified)
        quiet = self._quiet_exact.get(exact)
        if quiet is not None:
            return quiet
        key = (status, _TIMES.sub("T", notified))
        quiet = self._quiet_cells.get(key)
        if quiet is None:
            quiet = self._quiet_cell(status, notified)
            if len(self._quiet_cells) < _QUIET_MEMO_SIZE:
                self._quiet_cells[key] = quiet
        if len(self._quiet_exact) < _QUIET_MEMO_SIZE:
            self._quiet_exact[exact] = quiet
        return quiet

    def _first_sight(self, stored: StoredRequest, now: datetime) -> RowPlan | None:
        """The plan of a row first seen in a status the worker does not decide, from its cells.

        Such a row (on a sheet the worker adopts, most rows) is only marked:
        ``adopted`` when closed, ``seen`` otherwise; no model is built for it.
        None for every other row.
        """
        request_id = stored.text("request_id").strip()
        status_text = stored.text("status")
        status = Status.parse(status_text)
        if not request_id or status is None or status in OPEN_FOR_WORKER:
            return None
        notified = stored.text("notified")
        cell = parse(notified)
        if cell.seen_by_worker:
            return None
        plan = RowPlan(cell=cell)
        self._plan_first_sight(plan, request_id, status_text, now)
        rendered = plan.cell.render()
        if rendered != notified:
            plan.values["notified"] = rendered
        return plan

    def _quiet_cell(self, status_text: str, notified: str) -> bool:
        status = Status.parse(status_text)
        if status is None or status in OPEN_FOR_WORKER:
            return False
        cell = parse(notified)
        if not cell.seen_by_worker or cell.owed() or cell.gave_up_sentence():
            return False
        if cell.render() != notified:
            return False
        if status is Status.APPROVED and cell.notice(status) is None:
            return False  # a return or exchange may still owe its ship-back notice
        return not (self._wants_notice(status) and cell.notice(status) is None)

    def _plan_row(
        self,
        stored: StoredRequest,
        now: datetime,
        orders: OrderCache,
        records: dict[tuple[str, str], NoticeRecord],
        report: PassReport,
        adopt_only: bool,
    ) -> RowPlan:
        request = stored.request
        plan = RowPlan()
        if adopt_only and parse(request.notified).seen_by_worker:
            return plan
        if not request.request_id.strip():
            plan.values["request_id"] = new_request_id()
            request = request.model_copy(update={"request_id": plan.values["request_id"]})
        request_id = request.request_id.strip()
        before = parse(request.notified)
        first = not before.seen_by_worker
        plan.cell = catch_up(before, request_id, records, untold=self._team_alerts)
        status = request.parsed_status
        if adopt_only:
            self._plan_first_sight(plan, request.request_id, request.status, now)
        elif status is None:
            self._plan_unknown(plan, request, first, now)
        elif (closed := plan.cell.seen_closed) is not None and status in OPEN_FOR_WORKER:
            report.problems.append(
                f"{request_id}: reads {status.value} but was {closed.value} when the worker "
                "saw it; closed requests are never re-opened, so it was left alone"
            )
            log.warning("tick.reopen_refused", request_id=request_id, was=closed.value)
        elif status in OPEN_FOR_WORKER:
            if first and status == Status.PENDING and self._received_due(request, now):
                self._owe(plan, request, status, now)
            decision = self._decide(request, now, orders, report)
            if decision is not None:
                self._plan_decision(plan, request, status, decision, now)
            if first and not plan.cell.seen_by_worker:
                plan.cell = plan.cell.with_entry(seen_entry(request.status, format_time(now)))
                plan.seen = request.status.strip() or Status.PENDING.value
        else:
            self._plan_team_status(plan, request, status, first, now, report)
        self._plan_gave_up_note(plan, request)
        rendered = plan.cell.render()
        if rendered != request.notified:
            plan.values["notified"] = rendered
        plan.request = request.model_copy(update=plan.values)
        return plan

    def _plan_unknown(self, plan: RowPlan, request: Request, first: bool, now: datetime) -> None:
        note = (
            f"Status {request.status.strip()!r} is not one the worker knows, so it left "
            f"this row alone; use one of: {_KNOWN}."
        )
        if request.worker_note != note:
            plan.values["worker_note"] = note
        if first:
            self._plan_first_sight(plan, request.request_id, request.status, now)

    def _plan_team_status(
        self,
        plan: RowPlan,
        request: Request,
        status: Status,
        first: bool,
        now: datetime,
        report: PassReport,
    ) -> None:
        """A status the worker does not decide: history at first sight, a move after."""
        if first:
            self._plan_first_sight(plan, request.request_id, request.status, now)
        elif self._wants_notice(status) and plan.cell.notice(status) is None:
            self._owe(plan, request, status, now)
        elif approval_ships_back(request, status) and plan.cell.notice(status) is None:
            self._owe_ship_back(plan, request, now, report)

    def _plan_first_sight(
        self, plan: RowPlan, request_id: str, status_text: str, now: datetime
    ) -> None:
        """Mark a row the worker never saw: its status as it stands is history."""
        when = format_time(now)
        status = Status.parse(status_text)
        word = status_text.strip() or Status.PENDING.value
        if status is None or not status.is_closed:
            plan.cell = plan.cell.with_entry(seen_entry(word, when))
            plan.seen = word
            return
        plan.cell = plan.cell.with_entry(adopted_entry(word, when))
        plan.adopted = word
        plan.log.append(
            LogEntry(
                time=when,
                request_id=request_id.strip(),
                from_status=word,
                to_status=word,
                by="adopted",
                note=ADOPTED_NOTE,
            )
        )

    def _decide(
        self, request: Request, now: datetime, orders: OrderCache, report: PassReport
    ) -> Decision | None:
        report.checked += 1
        orders.opened()  # a source that cannot be opened fails the pass, not one row
        try:
            order = orders.get(request.order_id, request.email)
        except OrderSourceError as exc:
            report.failed += 1
            report.problems.append(f"{request.request_id}: {exc}")
            log.warning("tick.order_unavailable", request_id=request.request_id, error=str(exc))
            return None
        decision = decide(request, order, self.settings.policy, now, self.settings.zone)
        self.metrics.inc("sheetqueue_decisions_total", code=decision.code)
        return decision

    def _plan_decision(
        self, plan: RowPlan, request: Request, status: Status, decision: Decision, now: datetime
    ) -> None:
        target = worker_move(status, decision.status)
        note = with_sentence(decision.note, plan.cell.gave_up_sentence())
        if decision.cell != request.decision or note != request.worker_note or target != status:
            plan.values.update(
                decision=decision.cell, worker_note=note, checked_at=format_time(now)
            )
        if target != status or not request.status.strip():
            plan.values["status"] = target.value
            plan.new_status = target.value
        if target != status:
            plan.log.append(
                LogEntry(
                    time=format_time(now),
                    request_id=request.request_id,
                    from_status=request.status or Status.PENDING.value,
                    to_status=target.value,
                    by="worker",
                    note=decision.note,
                )
            )
        if target != status and self._wants_notice(target):
            self._owe(plan, request, target, now, decision=decision)

    def _plan_gave_up_note(self, plan: RowPlan, request: Request) -> None:
        """A notice that never went out is said once in Worker Note, and stays said."""
        sentence = plan.cell.gave_up_sentence()
        if not sentence or "worker_note" in plan.values:
            return
        note = with_sentence(request.worker_note, sentence)
        if note != request.worker_note:
            plan.values["worker_note"] = note


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
                worker.lease.acquire(now)
            log.info("tick.started")
            if worker.team_events is not None:  # asks made before this read are covered
                worker.team_events.clear_pass_wanted()
            try:
                report = worker.record_pass(now)
            except BaseException:
                worker._guard = None
                raise
    except Timeout:
        log.info("tick.skipped", reason="another pass holds the lock")
        return None
    try:
        worker.send(now, report, lock)
    finally:
        worker._guard = None
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
