"""Addresses, as text or as an object, give the city and the postal code only."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sheetqueue.sheets.order_fields import FIELDS, first_value, is_blank, key_of

__all__ = ["city_and_postal_code", "keep_city_and_postal_code"]

_POSTAL_AT_END = re.compile(
    r"^(?P<city>.*?)[\s,]*(?:\b[A-Z]{2,3}\.?\s+)?"
    r"(?P<postal>\d{5}-\d{4}|[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}|[A-Z]\d[A-Z]\s?\d[A-Z]\d|\d{4,6})$"
)
_POSTAL_FIRST = re.compile(r"^(?P<postal>\d{4}\s?[A-Z]{2}|\d{2}-\d{3}|\d{4,6})\s+(?P<city>\D+)$")
_STATE = re.compile(r"^[A-Z]{2,3}$")


def keep_city_and_postal_code(out: dict[str, Any]) -> None:
    """City and postal code from a structured or one-line address; the street is dropped."""
    address = out.pop("shipping_address", None)
    city, postal = out.get("city"), out.get("postal_code")
    if isinstance(address, Mapping):
        parts = {key_of(name): value for name, value in address.items()}
        city = city or first_value(parts, FIELDS["city"])
        postal = postal or first_value(parts, FIELDS["postal_code"])
    elif isinstance(address, str) and address.strip():
        found_city, found_postal = city_and_postal_code(address)
        city, postal = city or found_city, postal or found_postal
    for name, value in (("city", city), ("postal_code", postal)):
        if is_blank(value):
            out.pop(name, None)
        else:
            out[name] = " ".join(str(value).split())


def city_and_postal_code(address: str) -> tuple[str | None, str | None]:
    """City and postal code of a one-line address (``123 Main St, Austin, TX 78701``)."""
    parts = [part.strip() for part in re.split(r"[,;\n]+", address) if part.strip()]
    for index in range(len(parts) - 1, 0, -1):
        part = parts[index]
        match = _POSTAL_FIRST.match(part) or _POSTAL_AT_END.match(part)
        if match is None:
            continue
        postal = " ".join(match.group("postal").split())
        city = match.group("city").strip(" ,")
        if (not city or _STATE.match(city)) and index > 1:
            city = parts[index - 1]
        return (city if city and not re.search(r"\d", city) else None), postal
    return (parts[-2] if len(parts) > 2 else None), None
