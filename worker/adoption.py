"""Rows first seen already closed (history): marked ``adopted``, written in parts.

A first pass over a sheet with a long history plans one ``adopted`` cell per
closed row; :class:`Adopting` keeps those rows compact and writes them after
the pass's own write, in parts of at most :data:`ADOPT_PART_ROWS` rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sheetqueue.sheets.model import LogEntry
from sheetqueue.sheets.store import CellUpdate, QueueRead, RowRef, Store
from sheetqueue.sheets.times import format_time
from sheetqueue.worker.pass_plan import PassReport, RowPlan, count_first_sight

__all__ = ["ADOPTED_NOTE", "ADOPT_PART_ROWS", "Adopting"]

ADOPTED_NOTE = "first seen already closed: history, the shopper is not notified"
ADOPT_PART_ROWS = 5000
"""Rows first seen closed are marked ``adopted`` in writes of at most this many rows."""


class Adopting:
    """Rows first seen closed (history), kept compact, then written ``adopted`` in parts.

    Such a row owes nothing and is not in the ledger, so its write stands
    alone. The pass keeps three things a row (its index in the read, the
    ``Notified`` text to set, the status word; the Request ID and Status are
    the read's own columns), and :meth:`write` runs once the rows have been
    decided and the read let go: each part's updates and log lines are built
    just before the part's own compare-and-set write, so a first pass over a
    large sheet never holds a plan, a log line and an update for every row.
    """

    def __init__(self, rows: QueueRead, report: PassReport, dry_run: bool, now: datetime) -> None:
        self._read = rows
        self._report = report
        self._dry_run = dry_run
        self._when = format_time(now)
        self._rows: list[tuple[int, str, str]] = []
        self._same: dict[str, str] = {}  # one object per rendered cell (they repeat)
        self.planned = 0

    def take(self, index: int, plan: RowPlan) -> bool:
        """Keep the plan of row ``index`` when it only marks the row adopted (True)."""
        if set(plan.values) != {"notified"} or len(plan.log) != 1:
            return False
        entry = plan.log[0]
        if (entry.by, entry.note, entry.time) != ("adopted", ADOPTED_NOTE, self._when):
            return False
        if not (entry.from_status == entry.to_status == plan.adopted):
            return False
        self.planned += 1
        if self._dry_run:
            count_first_sight(self._report, plan)
            return True
        cell = plan.values["notified"]
        self._rows.append((index, self._same.setdefault(cell, cell), plan.adopted))
        return True

    def write(self, store: Store, renew: Callable[[str], None]) -> None:
        """Every part, in sheet order, each its own compare-and-set write.

        ``renew`` keeps the pass lease before each part (it raises when lost).
        """
        rows, self._rows, self._same = self._rows, [], {}
        while rows:
            part = rows[:ADOPT_PART_ROWS]
            del rows[:ADOPT_PART_ROWS]  # each part let go once written
            self._write_part(store, renew, part)

    def _write_part(
        self, store: Store, renew: Callable[[str], None], part: Sequence[tuple[int, str, str]]
    ) -> None:
        ids, statuses = self._read.texts("request_id"), self._read.texts("status")
        positions = self._read.positions
        updates = [
            CellUpdate(
                RowRef(positions[index]),
                {"request_id": ids[index], "status": statuses[index]},
                {"notified": cell},
                log=(
                    LogEntry(
                        time=self._when,
                        request_id=ids[index].strip(),
                        from_status=word,
                        to_status=word,
                        by="adopted",
                        note=ADOPTED_NOTE,
                    ),
                ),
            )
            for index, cell, word in part
        ]
        renew("adoption write")
        result = store.update_cells(updates)
        del updates
        applied = {ref.position for ref in result.applied}
        adopted = self._report.adopted
        for index, _, word in part:
            if positions[index] in applied:
                adopted[word] = adopted.get(word, 0) + 1
        self._report.skipped_rows += len(result.skipped)
