"""Times in the sheet: what the project writes, and every form it accepts when reading."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from sheetqueue.sheets.times import format_time, parse_time, read_sheet_time

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


def test_a_serial_number_is_read_in_the_sheets_time_zone() -> None:
    """46114.5 is 2026-04-03 12:00 on the sheet's clock (London, summer time: 11:00Z)."""
    found = read_sheet_time(46115.5, ZoneInfo("Europe/London"), "en_GB")
    assert found.moment == datetime(2026, 4, 3, 11, 0, tzinfo=UTC)


def test_text_dates_follow_the_sheets_locale() -> None:
    """03/04/2026 is 3 April on an en_GB sheet and 4 March on an en_US one; 22/11 reads as a day."""
    assert read_sheet_time("03/04/2026", UTC, "en_GB").moment == datetime(2026, 4, 3, tzinfo=UTC)
    assert read_sheet_time("03/04/2026", UTC, "en_US").moment == datetime(2026, 3, 4, tzinfo=UTC)
    late = read_sheet_time("22/11/2026 09:30:00", UTC, "en_GB").moment
    assert late == datetime(2026, 11, 22, 9, 30, tzinfo=UTC)


def test_text_the_locale_does_not_settle_is_reported_not_guessed() -> None:
    """11/22/2026 on an en_GB sheet, or 03/04/2026 with no locale, is ambiguous: no moment."""
    wrong_way = read_sheet_time("03/04/2026", UTC, "")
    assert wrong_way.moment is None and "ambiguous" in wrong_way.problem
    us_on_uk = read_sheet_time("11/22/2026", UTC, "en_GB")
    assert us_on_uk.moment is None and "en_GB" in us_on_uk.problem
