"""What keeps a send step the only one: the pass lease held to its end, and marks in the sheet.

:class:`LeaseGuard` keeps the pass lease for the whole pass. The pass takes
the lease before its record step; the guard renews it before the record
step's write when the step was long, before the send step hands anything to
a notifier, and after the send step before its outcomes are written. A
renewal that finds another holder (or cannot reach the store) stops the pass
there: the notices stay owed in the sheet, for whoever holds the lease.

:func:`mark_sending` writes the in-flight marks: just before the send step
hands messages over, one compare-and-set write turns their ``Notified``
entries into ``Done owed <owed at> email sending <now>``. The ledger keeps
the time of the marks this worker wrote; a worker that reads a mark with
another time (a takeover, a lost state file) records that notice as maybe
delivered and never sends it again (see :func:`~sheetqueue.worker.sending.catch_up`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime

import structlog
from filelock import BaseFileLock, Timeout

from sheetqueue.config.clock import Clock
from sheetqueue.config.errors import StoreError
from sheetqueue.sheets.lease import LeaseHeld, PassLease
from sheetqueue.sheets.store import CellUpdate, Store
from sheetqueue.sheets.times import format_time
from sheetqueue.worker.ledger import Ledger
from sheetqueue.worker.notice_records import Owed
from sheetqueue.worker.notified import Cell, channel_of, parse, sending_entry
from sheetqueue.worker.notify.base import Notifier
from sheetqueue.worker.sending import Written, carriers

__all__ = ["LeaseGuard", "mark_sending"]

log = structlog.get_logger("sheetqueue.worker")

RENEW_FRACTION = 3
"""A step counts as long once a third of the lease has passed since the last renewal."""


class LeaseGuard:
    """The pass lease of one pass: renewed at its steps, and lost for good once lost."""

    def __init__(
        self,
        lease: PassLease,
        clock: Clock,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lease = lease
        self._clock = clock
        self._monotonic = monotonic
        self._renewed = monotonic()
        self.error: StoreError | None = None  # why the lease was lost, once it was

    def begin(self, now: datetime) -> None:
        """Take or renew the lease for a pass at ``now`` (LeaseHeld when another worker has it).

        Every pass starts on a whole lease. A pass started on what was left of
        an earlier renewal could outlast it while its read is slowed by
        retries, and another host would take over during the pass: that pass
        would find the lease lost at its first write and stop, but the two
        passes would have overlapped.
        """
        self.lease.acquire(now)
        self._renewed = self._monotonic()

    @property
    def lost(self) -> bool:
        return self.error is not None

    def renew(self, step: str) -> bool:
        """Renew the lease before ``step``; False (logged as an error) when it is not ours."""
        if self.lost:
            return False
        started = self._monotonic()
        try:
            self.lease.acquire(self._clock())
        except LeaseHeld as held:
            self.error = held
            log.error(
                "lease.lost",
                step=step,
                holder=held.holder.describe(),
                host=held.holder.host,
                pid=held.holder.pid,
                action="pass stopped here; what it owes stays owed in the sheet",
            )
            return False
        except StoreError as exc:
            self.error = exc
            log.error(
                "lease.not_renewed",
                step=step,
                error=str(exc),
                action="pass stopped here; what it owes stays owed in the sheet",
            )
            return False
        self._renewed = started
        return True

    def renew_if_long(self, step: str) -> bool:
        """Renew only when a third of the lease has passed since the last renewal."""
        if self.lost:
            return False
        ttl = self.lease.ttl.total_seconds()
        if self._monotonic() - self._renewed < ttl / RENEW_FRACTION:
            return True
        return self.renew(step)


def mark_sending(
    store: Store,
    ledger: Ledger,
    written: dict[str, Written],
    notifiers: Sequence[Notifier],
    claimed: Sequence[Owed],
    now: datetime,
    lock: BaseFileLock | None,
) -> list[Owed]:
    """Mark the claimed notices ``sending`` in one write; return those that may now go.

    A notice with nothing left to hand over goes without a mark. One whose row
    the pass did not leave owing it, or whose row changed since, is not
    marked and does not go (a later pass looks again). Nothing goes when the
    store cannot be written.
    """
    at = format_time(now)
    free: list[Owed] = []
    cells: dict[str, Cell] = {}
    marked: dict[str, list[Owed]] = {}
    for owed in claimed:
        request_id, status = owed.message.request_id, owed.message.notice_word
        channels = [
            channel_of(n.name)
            for n in carriers(notifiers, owed.message)
            if n.name not in owed.delivered and n.skip_reason(owed.message) is None
        ]
        if not channels:
            free.append(owed)
            continue
        row = written.get(request_id)
        if row is None:
            continue
        cell = cells.get(request_id) or parse(row.notified)
        entry = next((e for e in cell.owed() if e.status == status), None)
        if entry is None:
            continue
        cells[request_id] = cell.with_entry(sending_entry(entry, channels, at))
        marked.setdefault(request_id, []).append(owed)
    if not cells:
        return free
    updates = [
        CellUpdate(
            written[rid].ref,
            {"request_id": rid, "status": written[rid].status, "notified": written[rid].notified},
            {"notified": cell.render()},
        )
        for rid, cell in cells.items()
    ]
    try:
        if lock is None:
            applied = store.update_cells(updates).applied
        else:
            with lock.acquire(timeout=0):
                applied = store.update_cells(updates).applied
    except Timeout:
        return free
    except StoreError as exc:
        log.warning("notify.not_marked", error=str(exc), action="sent by a later pass")
        return free
    done = {ref.position for ref in applied}
    going = list(free)
    keys = []
    for rid, cell in cells.items():
        row = written[rid]
        if row.ref.position not in done:
            continue
        written[rid] = Written(row.ref, row.request_id, row.status, cell.render())
        going += marked[rid]
        keys += [(rid, owed.message.notice_word) for owed in marked[rid]]
    ledger.mark_sheet(keys, at)
    return going
