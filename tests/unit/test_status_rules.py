"""The rules of the queue spelled once: types, statuses, who may move what."""

from __future__ import annotations

import pytest

from sheetqueue.sheets.model import RequestType, Status
from sheetqueue.worker.transitions import IllegalMove, RefusedTeamMove, team_move, worker_move
from tests.factories import make_request


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Address-Change", RequestType.ADDRESS_CHANGE),
        ("address change", RequestType.ADDRESS_CHANGE),
        ("  ADDRESS__CHANGE ", RequestType.ADDRESS_CHANGE),
        ("Cancellation", RequestType.CANCELLATION),
        ("refund", RequestType.REFUND),
        ("", None),
        ("cancel", None),
        ("address-changes", None),
    ],
)
def test_request_type_parse_reads_every_spelling_of_one_word(
    typed: str, expected: RequestType | None
) -> None:
    """Case, spaces, hyphens and underscores do not matter; other words are unknown."""
    assert RequestType.parse(typed) is expected
    assert make_request(type=typed).parsed_type is expected


def test_duplicate_key_uses_the_parsed_type() -> None:
    """``Address-Change`` and ``address_change`` in one conversation are the same request."""
    typed = make_request(type="Address-Change", order_id="ORD-1")
    recorded = make_request(type="address_change", order_id="ord-1")
    assert typed.duplicate_key() == recorded.duplicate_key()


def test_closed_statuses_are_the_final_three() -> None:
    """Ineligible, Done and Rejected are closed; every other status is open."""
    assert {status for status in Status if status.is_closed} == {
        Status.INELIGIBLE,
        Status.DONE,
        Status.REJECTED,
    }
    assert make_request(status="Dnoe").is_open()
    assert not make_request(status=" done ").is_open()


@pytest.mark.parametrize(
    "current",
    [Status.PENDING, Status.ELIGIBLE, Status.NEEDS_REVIEW, Status.APPROVED, Status.IN_PROGRESS],
)
@pytest.mark.parametrize(
    "wanted", [Status.APPROVED, Status.IN_PROGRESS, Status.DONE, Status.REJECTED]
)
def test_the_team_sets_its_statuses_on_an_open_request(current: Status, wanted: Status) -> None:
    """Approved, In Progress, Done and Rejected may be set on any open request."""
    assert team_move(current, wanted) is wanted


def test_the_team_may_fix_a_status_nobody_knows() -> None:
    """A typo in the Status cell (None when parsed) may be replaced by a team status."""
    assert team_move(None, Status.DONE) is Status.DONE


@pytest.mark.parametrize(
    "wanted", [Status.PENDING, Status.ELIGIBLE, Status.NEEDS_REVIEW, Status.INELIGIBLE]
)
def test_the_workers_statuses_are_refused_to_the_team(wanted: Status) -> None:
    """Pending, Eligible, Needs Review and Ineligible are the worker's: a clear refusal."""
    with pytest.raises(RefusedTeamMove, match=f"{wanted} is set by the worker") as caught:
        team_move(Status.APPROVED, wanted)
    assert caught.value.exit_code == 2
    assert "Approved, In Progress, Done, Rejected" in str(caught.value)


@pytest.mark.parametrize("closed", [Status.INELIGIBLE, Status.DONE, Status.REJECTED])
@pytest.mark.parametrize("wanted", [Status.APPROVED, Status.IN_PROGRESS, Status.REJECTED])
def test_a_closed_request_is_not_reopened(closed: Status, wanted: Status) -> None:
    """A closed request cannot become another status; the same status again is a no-op."""
    if wanted is closed:
        assert team_move(closed, wanted) is closed
        return
    with pytest.raises(RefusedTeamMove, match=rf"closed \({closed}\).*new request"):
        team_move(closed, wanted)


def test_the_worker_still_never_moves_a_team_status() -> None:
    """worker_move refuses to touch what the team set, and is not a team refusal."""
    with pytest.raises(IllegalMove) as caught:
        worker_move(Status.APPROVED, Status.INELIGIBLE)
    assert not isinstance(caught.value, RefusedTeamMove)
    assert worker_move(Status.ELIGIBLE, Status.ELIGIBLE) is Status.ELIGIBLE
