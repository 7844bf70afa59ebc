"""A team of three reshaping the sheet between passes: the worker stops, it never misleads."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chaos.reshape import ReshapeRun, run_reshape
from tests.store_backends import shared_emulator


def _clean(run: ReshapeRun) -> None:
    assert run.reopened == []
    assert run.new_ids == set()
    assert run.team_column_writes == []
    assert run.repeated_notices == []
    assert run.unexplained_notices == []


def test_a_few_rounds_of_reshaping_mislead_no_pass(tmp_path: Path) -> None:
    """Eight rounds of renames, inserts, merges and sorts: every audit count is zero."""
    run = run_reshape(shared_emulator(), tmp_path, rounds=8, seed=7)
    _clean(run)
    assert sum(run.stops.values()) > 0


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_team_of_three_reshapes_the_sheet_for_many_rounds(tmp_path: Path, seed: int) -> None:
    """Sixty rounds per seed: 0 re-opened rows, 0 new IDs, 0 team-cell writes, 0 stray notices."""
    run = run_reshape(shared_emulator(), tmp_path, rounds=60, seed=seed)
    print(f"seed {seed}: passes={run.passes} stops={dict(run.stops)} edits={dict(run.edits)}")
    _clean(run)
