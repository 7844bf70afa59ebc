"""Status moves: the worker's (:func:`worker_move`) and the team's (:func:`team_move`).

The worker moves ``Pending -> Eligible | Needs Review | Ineligible`` and
``Eligible -> Ineligible | Needs Review`` (a re-check that fails). Every other
status belongs to the team and is never changed by the worker.

The team sets ``Approved``, ``In Progress``, ``Done`` and ``Rejected``, on any
request that is still open (or whose Status cell holds a word nobody knows).
The worker's own statuses are not the team's to set, and a closed request
(``Ineligible``, ``Done``, ``Rejected``) is not re-opened: the shopper has been
told, so a new request is the way to ask again.
"""

from __future__ import annotations

from sheetqueue.config.errors import SheetqueueError
from sheetqueue.sheets.model import Status

__all__ = ["WORKER_MOVES", "IllegalMove", "RefusedTeamMove", "team_move", "worker_move"]

WORKER_MOVES: dict[Status, frozenset[Status]] = {
    Status.PENDING: frozenset({Status.ELIGIBLE, Status.NEEDS_REVIEW, Status.INELIGIBLE}),
    Status.ELIGIBLE: frozenset({Status.INELIGIBLE, Status.NEEDS_REVIEW}),
}


class IllegalMove(SheetqueueError):
    """The worker may not make that status change."""


class RefusedTeamMove(IllegalMove):
    """The team may not make that status change; the message says why."""

    exit_code = 2


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


def team_move(current: Status | None, wanted: Status) -> Status:
    """The status a team member sets, from ``current`` (None: an unknown word in the cell).

    Setting the status a request already has is allowed (to add a note). A move
    the team may not make raises :class:`RefusedTeamMove` naming the reason.
    """
    if wanted == current:
        return wanted
    if not wanted.set_by_team:
        team = ", ".join(status.value for status in Status if status.set_by_team)
        raise RefusedTeamMove(
            f"{wanted} is set by the worker, not by hand; the team sets one of {team}"
        )
    if current is not None and current.is_closed:
        raise RefusedTeamMove(
            f"the request is closed ({current}) and the shopper was told; it cannot "
            f"become {wanted}: record a new request instead"
        )
    return wanted
