"""Reading and writing the times a sheet holds.

The project writes ISO 8601 in UTC (``2026-11-22T09:30:00Z``). It reads that,
naive ISO (taken in the store's time zone, as chat platforms write
``datetime.now().isoformat()``), a date alone, and what a person types in a
sheet (``11/22/2026 9:30:00``, month first as Google Sheets shows it in the US).
Anything else is unreadable: ``parse_time`` returns None and the caller says so.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo

__all__ = ["format_time", "parse_time"]

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
    """An aware UTC datetime, or None when the value is not a time we can read."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
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
