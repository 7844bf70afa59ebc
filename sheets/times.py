"""Reading and writing the times a sheet holds.

The project writes ISO 8601 in UTC (``2026-11-22T09:30:00Z``). It reads that,
naive ISO (taken in the store's time zone, as chat platforms write
``datetime.now().isoformat()``), a date alone, and what a person types in a
sheet (``11/22/2026 9:30:00``, month first as Google Sheets shows it in the US).
Anything else is unreadable: ``parse_time`` returns None and the caller says so.

A sheet's own dates are read the sheet's way (:func:`read_sheet_time`): a date
cell read with ``UNFORMATTED_VALUE`` is a serial number (days since
1899-12-30, in the spreadsheet's time zone); a date typed as text is read in
the spreadsheet's locale (``03/04/2026`` is 3 April on an ``en_GB`` sheet).
Text whose day and month could be swapped and that the locale does not settle
is ambiguous: it is reported, never guessed. Outside a Google Sheet the same
function reads text in the shop's locale (``SHEETQUEUE_LOCALE``); the locales and
their date order are :mod:`sheetqueue.config.date_locales`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from sheetqueue.config.date_locales import date_order, order_words

__all__ = [
    "SheetTime",
    "UnreadTime",
    "calendar_days",
    "date_order",
    "format_time",
    "from_serial",
    "parse_time",
    "read_sheet_time",
]

_EPOCH = datetime(1899, 12, 30)
_SLASHED = re.compile(
    r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$"
)
_SHORT_YEAR = re.compile(r"^\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2}(?:[ T,]+\d{1,2}:\d{2}(?::\d{2})?)?$")
_PATTERNS = {"DMY": "DD/MM/YYYY", "MDY": "MM/DD/YYYY", "YMD": "YYYY/MM/DD"}

_TYPED_FORMATS = (
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d",
)


def format_time(moment: datetime) -> str:
    """``2026-11-22T09:30:00Z``: the one way the project writes a time."""
    if moment.tzinfo is None:
        raise ValueError("refusing to format a naive datetime")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: object, zone: tzinfo = UTC) -> datetime | None:
    """An aware UTC datetime, or None when the value is not a time we can read.

    A cell marked :class:`UnreadTime` (text the sheet's locale does not settle) is
    None too: it is reported, not read the usual month-first way.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        if type(value) is not str and isinstance(value, UnreadTime):
            return None  # the sheet's locale did not settle it: never guessed
        found = _parse_text(value.strip())
        if found is None:
            return None
        moment = found
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _parse_text(text: str) -> datetime | None:
    if not text:
        return None
    iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        return datetime.fromisoformat(iso)
    except ValueError:
        pass
    for pattern in _TYPED_FORMATS:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    return None


def from_serial(serial: float, zone: tzinfo) -> datetime:
    """A sheet's serial number (days since 1899-12-30, local time) as an aware UTC datetime."""
    naive = _EPOCH + timedelta(days=float(serial))
    naive = naive.replace(microsecond=0) + timedelta(seconds=round(naive.microsecond / 1e6))
    return naive.replace(tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class SheetTime:
    """A time read from a sheet cell: the moment, or the problem in plain words."""

    moment: datetime | None
    problem: str = ""


class UnreadTime(str):
    """The text of a date cell that cannot be read unambiguously; ``problem`` says why.

    It is the cell's text as typed, so it is shown and written back unchanged; the
    mark travels with it to the decision, which reports it instead of guessing.
    """

    problem: str
    cell: str

    def __new__(cls, text: str, problem: str, cell: str = "") -> UnreadTime:
        made = super().__new__(cls, text)
        made.problem = problem
        made.cell = cell
        return made

    def describe(self, field: str) -> str:
        """``the cell Orders!D2 (delivered at): '03/04/26' is ambiguous: ...``.

        Without a cell (an order API's answer) it names the field: ``delivered_at: ...``.
        """
        label = field.replace("_", " ")
        if not self.cell:
            return f"{field}: {self.problem}"
        return f"the cell {self.cell} ({label}): {self.problem}"


def read_sheet_time(
    value: object, zone: tzinfo, locale: str = "", whose: str = "the sheet's locale"
) -> SheetTime:
    """A cell as the sheet means it: a serial number, or text in the sheet's locale.

    ``whose`` names the locale in a problem (the shop's own, outside a Google Sheet).
    """
    if isinstance(value, bool):
        return SheetTime(None, f"{value!r} is not a date or time")
    if isinstance(value, int | float):
        return SheetTime(from_serial(value, zone))
    text = str(value).strip()
    if not text:
        return SheetTime(None, "no time given")
    order = date_order(locale)
    where = f"{whose} ({order_words(locale)})" if order else f"{whose} (unknown)"
    expected = f"expected {_PATTERNS[order]} or YYYY-MM-DD" if order else "write it as YYYY-MM-DD"
    slashed = _SLASHED.match(text)
    if slashed is None:
        return _unslashed(text, zone, where, expected)
    first, second, year = (int(part) for part in slashed.groups()[:3])
    chosen = _settled(first, second, year, order)
    if isinstance(chosen, str):
        problems = {
            "none": f"{text!r} does not read as a date; {expected}",
            "other": f"{text!r} does not read as a date in {where}; {expected}",
            "both": f"{text!r} is ambiguous: it does not read as a date in {where}, and day "
            "and month could be either way round; write it as YYYY-MM-DD",
        }
        return SheetTime(None, problems[chosen])
    hour, minute, second_ = (int(part or 0) for part in slashed.groups()[3:])
    try:
        naive = datetime(chosen.year, chosen.month, chosen.day, hour, minute, second_)
    except ValueError:
        return SheetTime(None, f"{text!r} does not read as a time")
    return SheetTime(naive.replace(tzinfo=zone).astimezone(UTC))


def _unslashed(text: str, zone: tzinfo, where: str, expected: str) -> SheetTime:
    """Text that is not a slashed date with a full year: ISO and the like, or a problem."""
    moment = parse_time(text, zone)
    if moment is not None:
        return SheetTime(moment)
    if _SHORT_YEAR.match(text):
        return SheetTime(
            None,
            f"{text!r} does not read as a date: {where} does not settle a two-digit year; "
            f"{expected}",
        )
    return SheetTime(None, f"{text!r} does not read as a date or time")


def _settled(first: int, second: int, year: int, order: str) -> date | str:
    """The date a locale's order settles, or why not: ``none``, ``other`` or ``both``.

    ``other``: only one reading is a date and it is not the locale's (``13/04/2026``
    in ``ja_JP``); ``both``: day and month could be either way round.
    """
    day_first = _day_month(first, second, year, day_first=True)
    month_first = _day_month(first, second, year, day_first=False)
    if order == "DMY" and day_first is not None:
        return day_first
    if order == "MDY" and month_first is not None:
        return month_first
    if day_first is None and month_first is None:
        return "none"
    if first == second:
        return day_first or month_first or "none"
    if order in ("DMY", "MDY") or day_first is None or month_first is None:
        return "other"
    return "both"


def _day_month(first: int, second: int, year: int, *, day_first: bool) -> date | None:
    day, month = (first, second) if day_first else (second, first)
    try:
        return date(year, month, day)
    except ValueError:
        return None


def calendar_days(start: datetime, end: datetime, zone: tzinfo) -> int:
    """Calendar days from ``start`` to ``end`` as the shop's clock shows them (DST-safe)."""
    return (end.astimezone(zone).date() - start.astimezone(zone).date()).days
