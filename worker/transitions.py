"""The worker's status moves: the only function that changes a status on its own.

The worker moves ``Pending -> Eligible | Needs Review | Ineligible`` and
``Eligible -> Ineligible | Needs Review`` (a re-check that fails). Every other
status belongs to the team and is never changed by the worker.
"""

from __future__ import annotations

from sheetqueue.config.errors import SheetqueueError
from sheetqueue.sheets.model import Status

__all__ = ["WORKER_MOVES", "IllegalMove", "worker_move"]

WORKER_MOVES: dict[Status, frozenset[Status]] = {
    Status.PENDING: frozenset({Status.ELIGIBLE, Status.NEEDS_REVIEW, Status.INELIGIBLE}),
    Status.ELIGIBLE: frozenset({Status.INELIGIBLE, Status.NEEDS_REVIEW}),
}


class IllegalMove(SheetqueueError):
    """The worker may not make that status change."""


def worker_move(current: Status, proposed: Status) -> Status:
    """The status a re-check leads to, from ``current`` and the decision's ``proposed``.

    An Eligible request that is still eligible stays Eligible. A move the worker
    may not make raises :class:`IllegalMove`, so a bug can never undo a team decision.
    """
    if proposed == current:
        return current
    if current == Status.ELIGIBLE and proposed == Status.ELIGIBLE:
        return current
    if proposed in WORKER_MOVES.get(current, frozenset()):
        return proposed
    raise IllegalMove(f"the worker may not move a request from {current} to {proposed}")
