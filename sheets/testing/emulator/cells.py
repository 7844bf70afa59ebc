"""Cells: what a value typed or sent becomes, and how it reads back.

``RAW`` keeps strings exactly as sent. ``USER_ENTERED`` parses the way the
Sheets UI does: numbers (``00123`` -> 123), ``TRUE``/``FALSE``, dates, a
leading apostrophe forcing text, and a leading ``=`` making a formula.

A date or time typed (``USER_ENTERED``) becomes a serial number (days since
1899-12-30) with a display format of the spreadsheet's locale: ``03/04/2026``
is 4 March on an ``en_US`` sheet (shown ``3/4/2026``) and 3 April on a
day-first one such as ``en_GB`` (shown ``03/04/2026``); ISO ``2026-04-03``
reads the same everywhere. Text that is no date in the locale stays text.
``UNFORMATTED_VALUE`` reads a date as its serial number, or as its display
text with ``dateTimeRenderOption=FORMATTED_STRING``. A
formula is stored, never run: only a tiny safe subset (``HYPERLINK``, a quoted
string, arithmetic on number literals) is evaluated; any other formula reads
back as its own text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["SKIP", "Cell", "from_input", "render"]

Scalar = str | int | float | bool

_NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d*)?(?:[eE][+-]?\d+)?$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?: (\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_SLASHED_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?: (\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_MONTH_FIRST_LOCALES = ("en_US", "en_PH", "es_US", "fil")
_HYPERLINK = re.compile(r'^HYPERLINK\(\s*"([^"]*)"\s*(?:[,;]\s*"([^"]*)"\s*)?\)$', re.IGNORECASE)
_STRING_LITERAL = re.compile(r'^"((?:[^"]|"")*)"$')
_EPOCH = datetime(1899, 12, 30)


class _Skip:
    """A ``null`` in the values sent: leave that cell as it is."""


SKIP = _Skip()


@dataclass(frozen=True, slots=True)
class Cell:
    """One non-empty cell: its effective value, formula and display text."""

    value: Scalar
    formula: str | None = None
    display: str | None = None
    date: bool = False  # a date or time (a serial number with a date format)


def from_input(raw: Any, user_entered: bool, locale: str = "en_US") -> Cell | _Skip | None:
    """The cell a sent value becomes; ``None`` clears it, :data:`SKIP` leaves it."""
    if raw is None:
        return SKIP
    if isinstance(raw, bool | int | float):
        return Cell(raw)
    if not isinstance(raw, str):
        raise ValueError("a cell value must be a string, number or boolean")
    if raw == "":
        return None
    if not user_entered:
        return Cell(raw)
    return _parse_user_text(raw, locale)


def _parse_user_text(text: str, locale: str = "en_US") -> Cell:
    if text.startswith("'"):
        return Cell(text[1:])
    if text.startswith("=") and len(text) > 1:
        return Cell(_evaluate(text[1:].strip(), text), formula=text)
    stripped = text.strip()
    if stripped.upper() in ("TRUE", "FALSE"):
        return Cell(stripped.upper() == "TRUE")
    number = _parse_number(stripped)
    if number is not None:
        return number
    moment = _parse_date(stripped, locale)
    return moment if moment is not None else Cell(text)


def _parse_number(text: str) -> Cell | None:
    display: str | None = None
    body = text
    scale = 1.0
    if body.startswith("$"):
        display, body = text, body[1:]
    elif body.endswith("%"):
        display, body, scale = text, body[:-1], 0.01
    if not body or not _NUMBER.match(body) or not any(ch.isdigit() for ch in body):
        return None
    plain = body.replace(",", "")
    value: int | float = float(plain) * scale
    if scale == 1.0 and re.fullmatch(r"[+-]?\d+", plain):
        value = int(plain)
    return Cell(value, display=display)


def _parse_date(text: str, locale: str = "en_US") -> Cell | None:
    iso = _ISO_DATE.match(text)
    slashed = _SLASHED_DATE.match(text)
    month_first = locale.replace("-", "_") in _MONTH_FIRST_LOCALES
    try:
        if iso:
            year, month, day, hour, minute, second = iso.groups()
            display = f"{int(year):04d}-{int(month):02d}-{int(day):02d}"
        elif slashed and month_first:
            month, day, year, hour, minute, second = slashed.groups()
            display = f"{int(month)}/{int(day)}/{int(year)}"
        elif slashed:
            day, month, year, hour, minute, second = slashed.groups()
            display = f"{int(day):02d}/{int(month):02d}/{int(year)}"
        else:
            return None
        moment = datetime(int(year), int(month), int(day))
        if hour is not None:
            moment = moment.replace(hour=int(hour), minute=int(minute), second=int(second or 0))
            clock = f"{int(hour)}:{int(minute):02d}:{int(second or 0):02d}"
            display += " " + (clock if month_first or iso else clock.zfill(8))
    except ValueError:
        return None
    serial = (moment - _EPOCH).total_seconds() / 86400
    return Cell(int(serial) if serial.is_integer() else serial, display=display, date=True)


def _evaluate(expression: str, formula: str) -> Scalar:
    link = _HYPERLINK.match(expression)
    if link:
        return link.group(2) if link.group(2) is not None else link.group(1)
    literal = _STRING_LITERAL.match(expression)
    if literal:
        return literal.group(1).replace('""', '"')
    try:
        result = _Arithmetic(expression).parse()
    except ZeroDivisionError:
        return "#DIV/0!"
    except ValueError:
        return formula
    return int(result) if result.is_integer() else result


class _Arithmetic:
    """``1+2*(3-4)/5`` on number literals only; anything else is a ValueError."""

    def __init__(self, text: str) -> None:
        self._tokens = re.findall(r"\d+\.?\d*|\.\d+|[-+*/()]|\S", text)
        self._pos = 0

    def parse(self) -> float:
        value = self._sum()
        if self._pos != len(self._tokens):
            raise ValueError("trailing tokens")
        return value

    def _peek(self) -> str | None:
        return self._tokens[self._pos] if self._pos < len(self._tokens) else None

    def _take(self) -> str:
        token = self._peek()
        if token is None:
            raise ValueError("unexpected end")
        self._pos += 1
        return token

    def _sum(self) -> float:
        value = self._product()
        while self._peek() in ("+", "-"):
            value = value + self._product() if self._take() == "+" else value - self._product()
        return value

    def _product(self) -> float:
        value = self._unary()
        while self._peek() in ("*", "/"):
            value = value * self._unary() if self._take() == "*" else value / self._unary()
        return value

    def _unary(self) -> float:
        symbol = self._take()
        if symbol == "-":
            return -self._unary()
        if symbol == "+":
            return self._unary()
        if symbol == "(":
            value = self._sum()
            if self._take() != ")":
                raise ValueError("missing )")
            return value
        try:
            return float(symbol)
        except ValueError as exc:
            raise ValueError(f"not a number: {symbol}") from exc


def render(cell: Cell | None, option: str, date_option: str = "SERIAL_NUMBER") -> Scalar:
    """The cell as ``FORMATTED_VALUE``, ``UNFORMATTED_VALUE`` or ``FORMULA``.

    ``date_option`` (``SERIAL_NUMBER`` or ``FORMATTED_STRING``) says how a date
    reads when it is not formatted; ``FORMATTED_VALUE`` ignores it, as Google does.
    """
    if cell is None:
        return ""
    if option == "FORMULA" and cell.formula is not None:
        return cell.formula
    value = cell.value
    if cell.date and date_option == "FORMATTED_STRING" and cell.display is not None:
        return cell.display
    if option in ("UNFORMATTED_VALUE", "FORMULA"):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value
    if cell.display is not None:
        return cell.display
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.10g}"
    return value
