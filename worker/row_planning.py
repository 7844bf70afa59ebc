"""How a pass plans one row: quiet history, first sight, a decision, a team move.

:class:`RowPlanning` is the part of the :class:`~sheetqueue.worker.tick.Worker`
that turns a row's cells into its :class:`~sheetqueue.worker.pass_plan.RowPlan`:
whether the row needs nothing (from two cells alone), how a row seen for the
first time is marked, what the policy decides for an open row against its
order, and what a status the team set asks of the worker.
"""

from __future__ import annotations

import re
from datetime import datetime

import structlog

from sheetqueue.config.errors import OrderSourceError
from sheetqueue.sheets.model import OPEN_FOR_WORKER, LogEntry, Request, Status, new_request_id
from sheetqueue.sheets.store import StoredRequest
from sheetqueue.sheets.times import format_time
from sheetqueue.worker.adoption import ADOPTED_NOTE
from sheetqueue.worker.eligibility import Decision, decide
from sheetqueue.worker.labels import approval_ships_back
from sheetqueue.worker.metrics import Metrics
from sheetqueue.worker.notice_records import NoticeRecord
from sheetqueue.worker.notified import adopted_entry, parse, seen_entry
from sheetqueue.worker.owing import NoticeOwing
from sheetqueue.worker.pass_plan import OrderCache, PassReport, RowPlan, with_sentence
from sheetqueue.worker.sending import catch_up
from sheetqueue.worker.transitions import worker_move

__all__ = ["RowPlanning"]

log = structlog.get_logger("sheetqueue.worker")

_KNOWN = ", ".join(status.value for status in Status)

_TIMES = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_QUIET_MEMO_SIZE = 4096


class RowPlanning(NoticeOwing):
    """The planning side of a pass (a part of the Worker, which sets these attributes)."""

    metrics: Metrics
    _quiet_cells: dict[tuple[str, str], bool]
    _quiet_exact: dict[tuple[str, str], bool]

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
