"""One worker pass: read the queue once, re-check, write once, tell shoppers.

A pass:

1. reads every row (one read of the store);
2. for each open row (blank, ``Pending``, ``Eligible``) fetches the order at
   most once, decides, and plans the worker's cells; gives a blank Request ID
   one; explains an unknown status; notices the team's changes for the log;
3. writes every planned cell in one compare-and-set write (a row that changed
   meanwhile is skipped and looked at again next pass);
4. records what shoppers are owed, only for statuses the sheet now holds,
   then sends what is due and notes it; the ``Notified`` cell catches up on the
   next pass's write.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from filelock import BaseFileLock, Timeout

from sheetqueue.config.errors import OrderSourceError
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.lease import PassLease
from sheetqueue.sheets.model import OPEN_FOR_WORKER, LogEntry, Request, Status, new_request_id
from sheetqueue.sheets.orders import Order, OrderSource
from sheetqueue.sheets.store import CellUpdate, Store, StoredRequest
from sheetqueue.sheets.times import format_time
from sheetqueue.worker.eligibility import Decision, decide
from sheetqueue.worker.ledger import FinishedNotice, Ledger
from sheetqueue.worker.metrics import Metrics
from sheetqueue.worker.notified import render_notified, statuses_in_notified
from sheetqueue.worker.notify.base import Notifier, deliver
from sheetqueue.worker.notify.message import Notice
from sheetqueue.worker.notify.templates import Templates, build_message
from sheetqueue.worker.transitions import worker_move

__all__ = ["PassReport", "Worker", "tick"]

log = structlog.get_logger("sheetqueue.worker")

_KNOWN = ", ".join(status.value for status in Status)


@dataclass
class PassReport:
    """What one pass did, as ``sheetqueue tick`` prints it."""

    checked: int = 0
    changed: int = 0
    notified: int = 0
    failed: int = 0
    skipped_rows: int = 0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        return {
            "checked": self.checked,
            "changed": self.changed,
            "notified": self.notified,
            "failed": self.failed,
        }


@dataclass
class _Plan:
    """What the pass will do to one row."""

    values: dict[str, str] = field(default_factory=dict)
    log: list[LogEntry] = field(default_factory=list)
    owed_if_written: list[Notice] = field(default_factory=list)
    new_status: str = ""


class Worker:
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
        lease: PassLease | None = None,
    ) -> None:
        self.store = store
        self.lease = lease  # who may run passes on the store; None: not checked
        self.order_source = order_source
        self.notifiers = list(notifiers)
        self.ledger = ledger
        self.settings = settings
        self.templates = templates or Templates(settings.templates_dir)
        self.metrics = metrics or Metrics()

    def close(self) -> None:
        """Release what the worker holds open (its ledger); the store is the caller's."""
        self.ledger.close()

    def run_pass(self, now: datetime) -> PassReport:
        """One pass over the queue at ``now``."""
        report = PassReport()
        self.store.ensure_header()
        rows = self.store.read_requests()
        orders = _OrderCache(self.order_source())
        seen = self.ledger.seen()
        known = self.ledger.known()
        outcomes = self.ledger.outcomes()
        updates: list[CellUpdate] = []
        observed: list[LogEntry] = []
        plans: dict[int, _Plan] = {}
        seen_now: dict[str, str] = {}
        owed: list[Notice] = []
        for stored in rows:
            plan = self._plan_row(stored, now, orders, outcomes, report)
            request = stored.request
            request_id = request.request_id.strip()
            if request_id:
                owed.extend(self._owed_confirmed(request, known, now))
            if request_id and plan.new_status == "":
                observed.extend(_team_change(request, seen.get(request_id), now))
                seen_now[request_id] = request.status
            if plan.values:
                updates.append(_update(stored, plan))
                plans[stored.ref.position] = plan
        result = self.store.update_cells(updates, log=observed)
        report.skipped_rows = len(result.skipped)
        ids = {stored.ref.position: stored.request.request_id for stored in rows}
        for ref in result.applied:
            plan = plans[ref.position]
            if plan.new_status:
                report.changed += 1
                seen_now[plan.values.get("request_id") or ids[ref.position]] = plan.new_status
            owed.extend(plan.owed_if_written)
        self._owe(owed, known, now)
        self.ledger.remember_seen(seen_now)
        self._send_due(now, report)
        log.info("tick.finished", **report.summary(), skipped_rows=report.skipped_rows)
        return report

    # -- planning -------------------------------------------------------------

    def _plan_row(
        self,
        stored: StoredRequest,
        now: datetime,
        orders: _OrderCache,
        outcomes: dict[str, list[FinishedNotice]],
        report: PassReport,
    ) -> _Plan:
        request = stored.request
        plan = _Plan()
        if not request.request_id.strip():
            plan.values["request_id"] = new_request_id()
            request = request.model_copy(update={"request_id": plan.values["request_id"]})
        status = request.parsed_status
        if status is None:
            note = (
                f"Status {request.status.strip()!r} is not one the worker knows, so it left "
                f"this row alone; use one of: {_KNOWN}."
            )
            if request.worker_note != note:
                plan.values["worker_note"] = note
            return plan
        if status in OPEN_FOR_WORKER:
            decision = self._decide(request, now, orders, report)
            if decision is not None:
                self._plan_decision(plan, request, status, decision, now)
        self._plan_notified(plan, request, outcomes.get(request.request_id.strip(), []))
        return plan

    def _decide(
        self, request: Request, now: datetime, orders: _OrderCache, report: PassReport
    ) -> Decision | None:
        report.checked += 1
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
        self, plan: _Plan, request: Request, status: Status, decision: Decision, now: datetime
    ) -> None:
        target = worker_move(status, decision.status)
        if (
            decision.cell != request.decision
            or decision.note != request.worker_note
            or target != status
        ):
            plan.values.update(
                decision=decision.cell, worker_note=decision.note, checked_at=format_time(now)
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
            plan.owed_if_written.append(
                Notice.from_request(
                    request,
                    target,
                    store_name=self.settings.store_name,
                    message=decision.shopper_message,
                    decision=decision.cell,
                )
            )

    def _plan_notified(self, plan: _Plan, request: Request, outcomes: list[FinishedNotice]) -> None:
        if not outcomes:
            return
        rendered = render_notified(outcomes)
        if rendered != request.notified:
            plan.values["notified"] = rendered
        gave_up = [o for o in outcomes if o.state == "gave_up"]
        if gave_up:
            note = (
                f"Could not tell the shopper about {gave_up[-1].status} after "
                f"{self.settings.notify_max_attempts} tries ({gave_up[-1].last_error}); "
                "please contact them another way."
            )
            if request.worker_note != note and plan.values.get("worker_note") is None:
                plan.values["worker_note"] = note

    # -- notices --------------------------------------------------------------

    def _wants_notice(self, status: Status) -> bool:
        if status in (Status.INELIGIBLE, Status.DONE, Status.REJECTED):
            return True
        if status == Status.PENDING:
            return self.settings.notify_on_received
        if status == Status.NEEDS_REVIEW:
            return self.settings.notify_on_review
        return False

    def _owed_confirmed(
        self, request: Request, known: set[tuple[str, str]], now: datetime
    ) -> list[Notice]:
        """A status the sheet holds (set by the team, or by an earlier pass) may be owed."""
        status = request.parsed_status
        if status is None or not self._wants_notice(status):
            return []
        request_id = request.request_id.strip()
        if (request_id, status.value) in known:
            return []
        if status in statuses_in_notified(request.notified):
            self.ledger.adopt_told(request_id, [status], now)
            known.add((request_id, status.value))
            return []
        return [Notice.from_request(request, status, store_name=self.settings.store_name)]

    def _owe(self, notices: list[Notice], known: set[tuple[str, str]], now: datetime) -> None:
        """Render and record every new notice in one ledger write, before any is sent."""
        messages = []
        for notice in notices:
            key = (notice.request_id, notice.status.value)
            if key in known:
                continue
            known.add(key)
            messages.append(
                build_message(
                    notice,
                    mail_from=self.settings.mail_from,
                    templates=self.templates,
                    policy=self.settings.policy,
                )
            )
        self.ledger.owe(messages, now)

    def _send_due(self, now: datetime, report: PassReport) -> None:
        for owed in self.ledger.due(now):
            waiting = [n for n in self.notifiers if n.name not in owed.delivered]
            delivery = deliver(waiting, owed.message)
            error = "; ".join(f"{name}: {exc}" for name, exc in delivery.failed)
            state = self.ledger.record_attempt(
                owed,
                delivered=delivery.sent,
                error=error,
                now=now,
                max_attempts=self.settings.notify_max_attempts,
                retry_after=timedelta(seconds=self.settings.notify_retry_seconds),
                nothing_to_send=not delivery.sent and not delivery.failed,
            )
            if delivery.sent:
                report.notified += 1
                self.metrics.inc("sheetqueue_notifications_sent_total", len(delivery.sent))
            if delivery.failed:
                report.failed += 1
                self.metrics.inc("sheetqueue_notifications_failed_total", len(delivery.failed))
            if state == "gave_up":
                log.error(
                    "notify.gave_up",
                    request_id=owed.message.request_id,
                    status=owed.message.status.value,
                    error=error,
                )


def tick(
    worker: Worker, now: datetime, lock: BaseFileLock, *, wait: float = 0
) -> PassReport | None:
    """One pass under the store's pass lock: what cron, ``worker`` and ``serve`` all run.

    Returns None, having done nothing, when another pass still holds the lock
    after ``wait`` seconds. Raises :class:`~sheetqueue.sheets.lease.LeaseHeld`,
    having done nothing, when another worker holds the store's pass lease.
    """
    try:
        with lock.acquire(timeout=wait):
            if worker.lease is not None:
                worker.lease.acquire(now)
            report = worker.run_pass(now)
    except Timeout:
        log.info("tick.skipped", reason="another pass holds the lock")
        return None
    worker.metrics.observe_pass(report.summary())
    return report


class _OrderCache:
    """Each order fetched at most once per pass."""

    def __init__(self, source: OrderSource) -> None:
        self._source = source
        self._found: dict[tuple[str, str], Order | None] = {}

    def get(self, order_id: str, email: str) -> Order | None:
        key = (order_id.strip().lower(), email.strip().lower())
        if key not in self._found:
            self._found[key] = self._source.get(order_id.strip(), email.strip())
        return self._found[key]


def _update(stored: StoredRequest, plan: _Plan) -> CellUpdate:
    request = stored.request
    expect = {"request_id": request.request_id, "status": request.status}
    if not request.request_id.strip():
        expect.update(timestamp=request.timestamp, email=request.email, order_id=request.order_id)
    return CellUpdate(stored.ref, expect, dict(plan.values), log=tuple(plan.log))


def _team_change(request: Request, before: str | None, now: datetime) -> list[LogEntry]:
    if before is None or before == request.status:
        return []
    return [
        LogEntry(
            time=format_time(now),
            request_id=request.request_id,
            from_status=before,
            to_status=request.status,
            by="team",
        )
    ]
