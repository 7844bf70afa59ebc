"""The send step: carry what the ledger says is due, several at once, within a deadline.

It runs after the pass has written (and released the pass lock), so a slow or
hanging notifier never holds up the next pass: messages are claimed in the
ledger (no second send step takes them), sent by a small thread pool, and a
message not started before ``notify_pass_seconds`` is handed back for the next
step. Each message is marked in flight in the ledger just before a notifier
gets it, so a pass killed mid-send leaves an unknown outcome that the next
step records as maybe delivered instead of sending again (see
:mod:`sheetqueue.worker.ledger`). Each outcome is recorded in the ledger as
soon as it is known, then the ``Notified`` cells of the rows concerned are
brought up to date in one compare-and-set write that also expects the cell
as the pass left it.

With team alerts, a shopper's notice settled as given up (or only maybe
delivered) owes, in that same cell write, the team's ``untold`` alert: a
notice of its own, carried by the team's channels alone in a later send step.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from filelock import BaseFileLock, Timeout

from sheetqueue.config.errors import StoreError
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.store import CellUpdate, RowRef, Store
from sheetqueue.worker.ledger import Ledger
from sheetqueue.worker.metrics import Metrics
from sheetqueue.worker.notice_records import NoticeRecord, NoticeState, Owed
from sheetqueue.worker.notified import (
    Cell,
    channel_of,
    channels_of,
    finished_entry,
    foreign_sending,
    parse,
    sending_entry,
    untold_entry,
)
from sheetqueue.worker.notify.base import Delivery, Notifier, deliver, send_step
from sheetqueue.worker.notify.message import OutgoingMessage

__all__ = ["SendResult", "Written", "carriers", "catch_up", "note_outcomes", "send_due"]

log = structlog.get_logger("sheetqueue.worker")

CLAIM_MARGIN = timedelta(seconds=120)  # a claim outlives the deadline by the longest send
KEEP_EVERY = 1.0
"""Seconds between two looks at whether the send step may go on (its lease renewed)."""


@dataclass(frozen=True)
class Written:
    """A row as the pass left it: where it is and the cells a later write expects."""

    ref: RowRef
    request_id: str
    status: str
    notified: str


@dataclass
class SendResult:
    notified: int = 0
    failed: int = 0
    maybe: int = 0
    postponed: int = 0


def catch_up(
    cell: Cell,
    request_id: str,
    records: Mapping[tuple[str, str], NoticeRecord],
    *,
    untold: bool = False,
) -> Cell:
    """The cell with each owed entry replaced by how the ledger says it went.

    A ``sending`` mark this ledger did not write becomes ``maybe`` (another
    worker, or this host before its state file was lost, was handing it over);
    one it wrote stays only on the notifiers still in flight. With ``untold``
    (team alerts configured), a shopper's notice settled here that no shopper
    channel surely carried owes the team's ``untold`` alert, once.
    """
    for entry in cell.owed():
        record = records.get((request_id, entry.status))
        if entry.sending and (record is None or record.marked != entry.sending_at):
            cell = cell.with_entry(foreign_sending(entry))
            continue
        if record is None:
            continue
        when = record.finished_at if record.state.finished else entry.time
        caught = finished_entry(
            entry.status,
            state=record.state,
            when=when or entry.time,
            carried=record.delivered,
            maybe=record.maybe,
            failed=record.failed,
            attempts=record.attempts,
            last_error=record.last_error,
        )
        if caught.kind == "owed" and record.in_flight and entry.sending:
            caught = sending_entry(caught, channels_of(record.in_flight), entry.sending_at)
        cell = cell.with_entry(caught)
        if untold and caught.could_not_tell and cell.entry_for(f"{entry.status} untold") is None:
            cell = cell.with_entry(untold_entry(entry.status, when or entry.time))
    return cell


def carriers(notifiers: Sequence[Notifier], message: OutgoingMessage) -> list[Notifier]:
    """The notifiers that may carry ``message``: the team's alone for an ``untold`` alert."""
    if not message.untold:
        return list(notifiers)
    return [n for n in notifiers if channel_of(n.name) == "team"]


def send_due(
    ledger: Ledger,
    notifiers: Sequence[Notifier],
    settings: Settings,
    now: datetime,
    metrics: Metrics,
    *,
    monotonic: Callable[[], float] = time.monotonic,
    mark: Callable[[list[Owed]], list[Owed]] | None = None,
    keep: Callable[[], bool] | None = None,
) -> SendResult:
    """Claim the due messages and send them concurrently; record each outcome.

    ``mark`` (the in-flight marks in the sheet) gets the claimed messages and
    returns those that may go; the others are handed back for a later step.
    ``keep`` is asked about every :data:`KEEP_EVERY` seconds while messages
    go (the pass lease renewed as it runs long); once it says no, no message
    not yet started is started: those are handed back.
    """
    result = SendResult()
    claimed = ledger.claim(
        now, now + timedelta(seconds=settings.notify_pass_seconds) + CLAIM_MARGIN
    )
    if claimed and mark is not None:
        cleared = mark(claimed)
        going = {id(owed) for owed in cleared}
        for owed in claimed:
            if id(owed) not in going:
                ledger.release(owed)
                result.postponed += 1
        claimed = cleared
    if not claimed:
        return result
    deadline = monotonic() + settings.notify_pass_seconds
    stopped = threading.Event()

    def attempt(owed: Owed) -> tuple[Owed, Delivery | None]:
        if stopped.is_set() or monotonic() > deadline:
            return owed, None
        waiting = [n for n in carriers(notifiers, owed.message) if n.name not in owed.delivered]
        return owed, deliver(
            waiting, owed.message, before_send=lambda names: ledger.mark_in_flight(owed, names)
        )

    workers = min(settings.notify_concurrency, len(claimed))
    with (
        send_step(notifiers),
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="notify") as pool,
    ):
        running = {pool.submit(attempt, owed) for owed in claimed}
        while running:
            done, running = wait(running, timeout=KEEP_EVERY, return_when=FIRST_COMPLETED)
            if keep is not None and not stopped.is_set() and not keep():
                stopped.set()
            for future in done:
                owed, delivery = future.result()
                if delivery is None:
                    ledger.release(owed)
                    result.postponed += 1
                    continue
                _record(ledger, owed, delivery, settings, now, metrics, result)
    if result.postponed:
        log.warning("notify.deadline", postponed=result.postponed)
    return result


def _record(
    ledger: Ledger,
    owed: Owed,
    delivery: Delivery,
    settings: Settings,
    now: datetime,
    metrics: Metrics,
    result: SendResult,
) -> None:
    error = "; ".join(str(exc) for _name, exc in delivery.failed)
    if owed.recovered:
        log.warning(
            "notify.maybe_delivered",
            request_id=owed.message.request_id,
            status=owed.message.notice_word,
            message_id=owed.message.message_id,
            notifiers=sorted(owed.recovered),
            error="a pass stopped while sending it: not sent again on these notifiers",
        )
    state = ledger.record_attempt(
        owed,
        delivered=delivery.sent,
        maybe=[name for name, _exc in delivery.maybe],
        failed=[name for name, _exc in delivery.failed],
        error=error,
        now=now,
        max_attempts=settings.notify_max_attempts,
        retry_after=timedelta(seconds=settings.notify_retry_seconds),
        nothing_to_send=not delivery.sent and not delivery.failed and not delivery.maybe,
    )
    if delivery.sent or delivery.maybe:
        result.notified += 1
        _count(metrics, "sheetqueue_notifications_sent_total", delivery.sent)
        for _alerted in (n for n in delivery.sent if channel_of(n) == "team"):
            reason = "untold" if owed.message.untold else "review"
            metrics.inc("sheetqueue_team_alerts_total", reason=reason)
    if delivery.maybe or owed.recovered:
        result.maybe += 1
        _count(
            metrics,
            "sheetqueue_notifications_maybe_total",
            [n for n, _e in delivery.maybe] + list(owed.recovered),
        )
    if delivery.failed:
        result.failed += 1
        _count(metrics, "sheetqueue_notifications_failed_total", [n for n, _e in delivery.failed])
    if state is NoticeState.GAVE_UP:
        log.error(
            "notify.gave_up",
            request_id=owed.message.request_id,
            status=owed.message.notice_word,
            error=error,
        )


def _count(metrics: Metrics, name: str, notifiers: list[str]) -> None:
    for notifier in notifiers:
        metrics.inc(name, channel=channel_of(notifier))


def note_outcomes(
    store: Store,
    ledger: Ledger,
    written: dict[str, Written],
    lock: BaseFileLock | None,
    *,
    untold: bool = False,
    keep: Callable[[], bool] | None = None,
) -> int:
    """Write the Notified cells the send step changed; return how many.

    Skipped (the next pass writes them) when a pass holds the lock, the store
    cannot be reached or ``keep`` (asked only when there is a cell to write:
    the pass lease still ours) says no; a row changed since the pass is left alone.
    """
    records = ledger.records()
    updates: list[CellUpdate] = []
    new_cells: dict[str, str] = {}
    for request_id, row in written.items():
        cell = catch_up(parse(row.notified), request_id, records, untold=untold).render()
        if cell != row.notified:
            expect = {"request_id": row.request_id, "status": row.status, "notified": row.notified}
            updates.append(CellUpdate(row.ref, expect, {"notified": cell}))
            new_cells[request_id] = cell
    if not updates or (keep is not None and not keep()):
        return 0
    try:
        if lock is None:
            applied = store.update_cells(updates).applied
        else:
            with lock.acquire(timeout=0):
                applied = store.update_cells(updates).applied
    except Timeout:
        return 0
    except StoreError as exc:
        log.warning("notify.cells_not_written", error=str(exc))
        return 0
    done = {ref.position for ref in applied}
    for request_id, cell in new_cells.items():
        row = written[request_id]
        if row.ref.position in done:
            written[request_id] = Written(row.ref, row.request_id, row.status, cell)
    return len(done)
