"""What a team member does in the sheet, for the shell: set a status, leave notes."""

from __future__ import annotations

from sheetqueue.config.errors import ConflictError, NotFoundError
from sheetqueue.sheets.model import Request, Status
from sheetqueue.sheets.store import CellUpdate, Store
from sheetqueue.worker.transitions import team_move

__all__ = ["set_status"]


def set_status(
    store: Store,
    request_id: str,
    status: Status,
    *,
    team_note: str = "",
    shopper_message: str = "",
    label: str = "",
) -> Request:
    """Set the status (and notes, when given) of one request, found by its ID.

    Only a move the team may make (:func:`~sheetqueue.worker.transitions.team_move`)
    is written; any other raises ``RefusedTeamMove`` and changes nothing.
    """
    for _attempt in range(3):
        found = next(
            (s for s in store.read_requests() if s.request.request_id == request_id.strip()), None
        )
        if found is None:
            raise NotFoundError(f"no request with ID {request_id!r}; see 'sheetqueue list'")
        values = {"status": team_move(found.request.parsed_status, status).value}
        if team_note:
            values["team_note"] = team_note
        if shopper_message:
            values["shopper_message"] = shopper_message
        if label:
            values["label"] = label
        expect = {"request_id": found.request.request_id, "status": found.request.status}
        result = store.update_cells([CellUpdate(found.ref, expect, values)])
        if result.applied:
            return found.request.model_copy(update=values)
    raise ConflictError(f"{request_id} kept changing while we wrote it; try again")
