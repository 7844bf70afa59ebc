"""What shoppers are owed: which statuses are told and the notices a pass owes.

:class:`NoticeOwing` is the part of the :class:`~sheetqueue.worker.tick.Worker`
that owes notices in the same sheet write as the status, rebuilds a notice the
sheet owes but the ledger lost, and closes the ones another worker told. The
team's ``untold`` alerts (owed when a shopper's notice is settled as given up
or maybe delivered) reach the ledger the same way: rebuilt from the cell.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

import structlog

from sheetqueue.config.settings import Settings
from sheetqueue.sheets.model import Request, Status
from sheetqueue.sheets.store import QueueRead, StoredRequest
from sheetqueue.sheets.times import format_time, parse_time
from sheetqueue.worker.eligibility import Decision
from sheetqueue.worker.labels import (
    ColumnLabels,
    LabelError,
    LabelSource,
    LabelWaiting,
    approval_ships_back,
    label_values,
    ship_back_note,
)
from sheetqueue.worker.ledger import Ledger
from sheetqueue.worker.links import link_for
from sheetqueue.worker.notice_records import NoticeRecord
from sheetqueue.worker.notified import (
    Cell,
    Entry,
    channel_of,
    channels_of,
    owed_entry,
    parse,
)
from sheetqueue.worker.notify.base import Notifier
from sheetqueue.worker.notify.message import Notice, OutgoingMessage
from sheetqueue.worker.notify.team import untold_message
from sheetqueue.worker.notify.templates import Templates, build_message
from sheetqueue.worker.pass_plan import PassReport, RowPlan, with_sentence
from sheetqueue.worker.sending import Written

__all__ = ["RECEIVED_NOTICE_WITHIN", "NoticeOwing"]

log = structlog.get_logger("sheetqueue.worker")

RECEIVED_NOTICE_WITHIN = timedelta(days=1)
"""A "received" notice goes only to a request first seen this soon after it was asked."""

_ASKS_AGAIN = "the next pass asks again."
_COLUMN_AGAIN = "the approval email goes once the Label cell holds a link."
_LABEL_NOTES = re.compile(
    r"(Approved: waiting for a label in the Label column|No return label yet: )"
    r".*?" + re.escape(_COLUMN_AGAIN) + r"\s*"
)


class NoticeOwing:
    """The notice side of a pass (a part of the Worker, which sets these attributes)."""

    settings: Settings
    ledger: Ledger
    templates: Templates
    notifiers: list[Notifier]
    labels: LabelSource | None
    _written: dict[str, Written]

    def _owe_ship_back(
        self, plan: RowPlan, request: Request, now: datetime, report: PassReport
    ) -> None:
        """An approved return or exchange: the deadline and the label, told once."""
        label = None
        if self.labels is not None:
            try:
                label = self.labels.label_for(request)
            except LabelWaiting as exc:  # the team has still to paste it: not a failure
                log.info("labels.waiting", request_id=request.request_id.strip())
                _label_note(plan, request, f"Approved: {exc}; {_COLUMN_AGAIN}")
                return
            except LabelError as exc:
                report.failed += 1
                report.problems.append(f"{request.request_id.strip()}: {exc}")
                log.warning("labels.failed", request_id=request.request_id, error=str(exc))
                again = _COLUMN_AGAIN if isinstance(self.labels, ColumnLabels) else _ASKS_AGAIN
                _label_note(plan, request, f"No return label yet: {exc}; {again}")
                return
        values = label_values(
            label, now=now, ship_back_days=self.settings.policy.return_ship_back_days
        )
        message = "" if label else "Our team will email you where to send them."
        plan.values["worker_note"] = with_sentence(
            _without_label_notes(request.worker_note), ship_back_note(label, values["ship_back_by"])
        )
        self._owe(plan, request, Status.APPROVED, now, message=message, values=values)

    # -- notices --------------------------------------------------------------

    @property
    def _team_alerts(self) -> bool:
        """Team alerts are configured: a shopper who could not be told is reported to the team."""
        return any(channel_of(n.name) == "team" for n in self.notifiers)

    def _wants_notice(self, status: Status) -> bool:
        if status.is_closed:
            return True
        if status == Status.PENDING:
            return self.settings.notify_on_received
        if status == Status.NEEDS_REVIEW:  # the shopper, or the team's alert channel
            return self.settings.notify_on_review or any(
                channel_of(n.name) == "team" for n in self.notifiers
            )
        return False

    def _received_due(self, request: Request, now: datetime) -> bool:
        """Received notices only for requests asked recently (not a sheet's old rows)."""
        if not self._wants_notice(Status.PENDING):
            return False
        asked = parse_time(request.timestamp, self.settings.zone)
        return asked is not None and now - asked <= RECEIVED_NOTICE_WITHIN

    def _owe(
        self,
        plan: RowPlan,
        request: Request,
        status: Status,
        now: datetime,
        *,
        decision: Decision | None = None,
        message: str = "",
        values: dict[str, str] | None = None,
    ) -> None:
        if plan.cell.notice(status) is not None:
            return
        plan.cell = plan.cell.with_entry(owed_entry(status, format_time(now)))
        extra = {"help_link": link_for(self.settings.links, request.parsed_type), **(values or {})}
        plan.notices.append(
            Notice.from_request(
                request,
                status,
                store_name=self.settings.store_name,
                message=decision.shopper_message if decision else message,
                decision=decision.cell if decision else None,
                values=tuple(extra.items()),
            )
        )

    def _message(self, notice: Notice) -> OutgoingMessage:
        return build_message(
            notice,
            mail_from=self.settings.mail_from,
            templates=self.templates,
            policy=self.settings.policy,
        )

    def _confirm_owed(
        self,
        rows: QueueRead,
        planned: Sequence[StoredRequest],
        plans: dict[int, RowPlan],
        applied: set[int],
        skipped: set[int],
        records: dict[tuple[str, str], NoticeRecord],
        now: datetime,
        seen: dict[str, str],
    ) -> None:
        """Make the ledger hold every notice the sheet now owes; forget the rest.

        One ledger transaction, which also remembers the statuses ``seen``.
        """
        staged = self.ledger.staged()
        pending = _pending_by_request(records)
        confirm: list[tuple[str, str]] = []
        settled: list[tuple[str, str]] = []
        rebuilt = []
        delivered: dict[tuple[str, str], list[str]] = {}
        maybe: dict[tuple[str, str], list[str]] = {}
        self._written = {}
        if pending:  # quiet rows (and history adopted in parts) owe nothing (see _quiet)
            notified = rows.texts("notified")
            for index, request_id in enumerate(rows.texts("request_id")):
                quiet_id = request_id.strip()
                if quiet_id in pending and rows.positions[index] not in plans:
                    cell = parse(notified[index])
                    settled += _told_elsewhere(cell, quiet_id, pending[quiet_id])
        for stored in planned:
            position = stored.ref.position
            if position in skipped:
                continue
            plan = plans[position]
            cell = plan.cell if position in applied else parse(stored.text("notified"))
            request = plan.request if position in applied and plan.request else stored.request
            request_id = request.request_id.strip()
            settled += _told_elsewhere(cell, request_id, pending.get(request_id, ()))
            if position in applied:
                _note_foreign_marks(stored.request, records)
            owed = cell.owed()
            if not owed:
                continue
            self._written[request_id] = Written(
                stored.ref, request_id, request.status, cell.render()
            )
            for entry in owed:
                key = (request_id, entry.status)
                if (record := records.get(key)) is not None:
                    unsure = set(self._names(entry.maybe)) - {*record.maybe, *record.delivered}
                    if unsure and not record.state.finished:
                        maybe[key] = sorted(unsure)
                    continue
                if key in staged:
                    confirm.append(key)
                    continue
                rebuilt.append(self._rebuilt(request, entry, cell, records))
                delivered[key] = self._names(entry.carried)
                maybe[key] = self._names(entry.maybe)
        rebuilt_keys = {(m.request_id, m.notice_word) for m in rebuilt}
        self.ledger.settle(
            confirm,
            rebuilt,
            now=now,
            delivered=delivered,
            maybe={k: v for k, v in maybe.items() if k in rebuilt_keys},
            seen=seen,
            told=settled,
        )
        self.ledger.add_maybe({k: v for k, v in maybe.items() if k not in rebuilt_keys})

    def _rebuilt(
        self,
        request: Request,
        entry: Entry,
        cell: Cell,
        records: dict[tuple[str, str], NoticeRecord],
    ) -> OutgoingMessage:
        if entry.untold:
            return self._untold(request, entry, cell, records)
        status = entry.parsed_status or Status.PENDING
        link = link_for(self.settings.links, request.parsed_type)
        values = {"help_link": link, **self._ship_back_again(request, status, entry)}
        notice = Notice.from_request(
            request, status, store_name=self.settings.store_name, values=tuple(values.items())
        )
        log.info("notify.rebuilt", request_id=notice.request_id, status=status.value)
        return self._message(notice)

    def _ship_back_again(self, request: Request, status: Status, entry: Entry) -> dict[str, str]:
        """A rebuilt approval's deadline (from when it was owed) and the Label column's label."""
        owed_at = parse_time(entry.time, self.settings.zone)
        if owed_at is None or not approval_ships_back(request, status):
            return {}
        label = None
        if isinstance(self.labels, ColumnLabels):  # the webhook is not asked twice
            try:
                label = self.labels.label_for(request)
            except LabelError:
                return {}
        days = self.settings.policy.return_ship_back_days
        return label_values(label, now=owed_at, ship_back_days=days)

    def _untold(
        self,
        request: Request,
        entry: Entry,
        cell: Cell,
        records: dict[tuple[str, str], NoticeRecord],
    ) -> OutgoingMessage:
        """The team's alert owed in ``entry``, from the shopper's settled notice it is about."""
        word = entry.status.rpartition(" ")[0]
        status = Status.parse(word) or Status.PENDING
        told = cell.entry_for(word)
        record = records.get((request.request_id.strip(), word))
        outcome = "gave up"
        if told is not None and told.kind == "not_sent":
            outcome = told.reason.partition(":")[0]  # "gave up after 5 tries"
        if told is not None and told.kind == "told":
            gave_up = [c for c in told.gave_up if c != "team"]
            maybe = [c for c in told.maybe if c != "team"]
            channels: Sequence[str] = gave_up or maybe
            outcome = "gave up" if gave_up else "maybe"
        elif record is not None and record.failed:
            channels = channels_of(record.failed)
        else:
            shoppers = (n.name for n in self.notifiers if channel_of(n.name) != "team")
            channels = channels_of(shoppers)
        log.info("notify.untold_owed", request_id=request.request_id.strip(), status=word)
        return untold_message(request, status, channels, outcome, mail_from=self.settings.mail_from)

    def _names(self, channels: Sequence[str]) -> list[str]:
        """The notifiers of these channels (those the cell says carried, or maybe carried, it)."""
        return [n.name for n in self.notifiers if channel_of(n.name) in channels]


def _label_note(plan: RowPlan, request: Request, sentence: str) -> None:
    """Say why the approval waits: this sentence in place of an earlier one about the label."""
    note = with_sentence(_without_label_notes(request.worker_note), sentence)
    if note != request.worker_note:
        plan.values["worker_note"] = note


def _without_label_notes(note: str) -> str:
    """The Worker Note without the sentences that said the Label column was not ready."""
    return _LABEL_NOTES.sub("", note).strip()


def _note_foreign_marks(request: Request, records: dict[tuple[str, str], NoticeRecord]) -> None:
    """Log each ``sending`` mark of another worker (or a lost state file) just made ``maybe``."""
    for entry in parse(request.notified).owed():
        record = records.get((request.request_id.strip(), entry.status))
        if entry.sending and (record is None or record.marked != entry.sending_at):
            log.warning(
                "notify.maybe_delivered",
                request_id=request.request_id.strip(),
                status=entry.status,
                channels=list(entry.sending),
                marked_at=entry.sending_at,
                error="another worker (or this host before its state file was lost) was "
                "sending it: recorded as maybe delivered, not sent again",
            )


def _pending_by_request(records: dict[tuple[str, str], NoticeRecord]) -> dict[str, list[str]]:
    pending: dict[str, list[str]] = {}
    for (request_id, status), record in records.items():
        if not record.state.finished:
            pending.setdefault(request_id, []).append(status)
    return pending


def _told_elsewhere(cell: Cell, request_id: str, statuses: Sequence[str]) -> list[tuple[str, str]]:
    """Notices this ledger still owes that the cell says are settled (another worker told them)."""
    settled = []
    for word in statuses:
        entry = cell.entry_for(word)
        if entry is not None and entry.kind != "owed":
            settled.append((request_id, word))
    return settled
