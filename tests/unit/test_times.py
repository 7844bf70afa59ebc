"""Times in the sheet: what the project writes, and every form it accepts when reading."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from sheetqueue.sheets.times import format_time, parse_time

CHICAGO = ZoneInfo("America/Chicago")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-22T09:30:00Z", "2026-11-22T09:30:00Z"),
        ("2026-11-22T15:00:00+05:30", "2026-11-22T09:30:00Z"),
        ("2026-11-22T03:30:00", "2026-11-22T09:30:00Z"),  # naive: the store's zone
        ("2026-11-22T03:30:00.123456", "2026-11-22T09:30:00Z"),
        ("11/22/2026 3:30:00", "2026-11-22T09:30:00Z"),  # typed in a sheet
        ("11/22/2026", "2026-11-22T06:00:00Z"),
        ("2026-11-22", "2026-11-22T06:00:00Z"),
        ("2026-11-22 03:30", "2026-11-22T09:30:00Z"),
    ],
)
def test_readable_forms_become_utc(text: str, expected: str) -> None:
    """ISO with or without a zone, typed US dates and bare dates; naive ones in the store zone."""
    moment = parse_time(text, CHICAGO)
    assert moment is not None
    assert format_time(moment) == expected


@pytest.mark.parametrize("text", ["", "soon", "22/22/2026", "yesterday 9am", "2026-13-01"])
def test_unreadable_times_are_none_never_guessed(text: str) -> None:
    """Anything else is None, so the caller can explain it instead of guessing."""
    assert parse_time(text, CHICAGO) is None


def test_writing_a_naive_time_is_refused() -> None:
    """The project only ever writes aware times, in UTC with a Z."""
    with pytest.raises(ValueError, match="naive"):
        format_time(datetime(2026, 11, 22, 9, 30))
    assert format_time(datetime(2026, 11, 22, 9, 30, tzinfo=UTC)) == "2026-11-22T09:30:00Z"
