"""What a verified shopper may see of an order, and nothing more.

The view is built field by field from the order, never by copying it: the
street never leaves (only the city and postal code, read from the address),
a card number never leaves (only the brand and the last four digits), a
tracking link is shown only when it is a real http(s) link, and dates are
shown only when they read as dates.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, tzinfo

from pydantic import BaseModel, ConfigDict

from sheetqueue.sheets.orders import Order, OrderStatus
from sheetqueue.sheets.times import parse_time

__all__ = ["ItemView", "OrderView", "city_and_postal_code", "order_view", "payment_summary"]


class ItemView(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    qty: int
    price: float | None = None


class OrderView(BaseModel):
    """An order as the shopper may see it; unknown fields are None and left out of JSON."""

    model_config = ConfigDict(frozen=True)

    order_id: str
    status: OrderStatus
    status_message: str
    order_date: str | None = None
    items: tuple[ItemView, ...] = ()
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    estimated_delivery: str | None = None
    shipped_on: str | None = None
    delivered_on: str | None = None
    cancelled_on: str | None = None
    refunded_on: str | None = None
    city: str | None = None
    postal_code: str | None = None
    total: float | None = None
    currency: str = "USD"
    payment: str | None = None

    def public_dict(self) -> dict[str, object]:
        """The JSON answer: known fields only (no tracking link when there is none)."""
        return self.model_dump(mode="json", exclude_none=True)


def order_view(order: Order, zone: tzinfo) -> OrderView:
    """Build the shopper's view of ``order``; dates in the store's time zone."""
    city, postal = city_and_postal_code(order.shipping_address)
    city, postal = city or order.city or None, postal or order.postal_code or None
    eta = _eta(order.estimated_delivery, zone)
    tracking_url = order.tracking_url.strip()
    values = {
        "shipped_on": _local_date(order.shipped_at, zone),
        "delivered_on": _local_date(order.delivered_at, zone),
        "cancelled_on": _local_date(order.cancelled_at, zone),
        "refunded_on": _local_date(order.refunded_at, zone),
    }
    view = OrderView(
        order_id=order.order_id,
        status=order.status,
        status_message="",
        order_date=_iso(_local_date(order.order_date, zone)),
        items=tuple(
            ItemView(name=item.name or item.sku, qty=item.qty, price=item.price)
            for item in order.items
        ),
        carrier=order.carrier.strip() or None,
        tracking_number=order.tracking_number.strip() or None,
        tracking_url=tracking_url if re.match(r"https?://\S+$", tracking_url) else None,
        estimated_delivery=_iso(eta),
        city=city,
        postal_code=postal,
        total=order.total,
        currency=order.currency or "USD",
        payment=payment_summary(order.payment_method),
        **{key: _iso(value) for key, value in values.items()},
    )
    message = _status_message(view, values, eta)
    return view.model_copy(update={"status_message": message})


def _local_date(moment: datetime | None, zone: tzinfo) -> date | None:
    return moment.astimezone(zone).date() if moment is not None else None


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _eta(text: str, zone: tzinfo) -> date | None:
    moment = parse_time(text, zone) if text.strip() else None
    return _local_date(moment, zone)


def _spoken(day: date | None) -> str:
    """``Saturday, March 8``: how a person says a date."""
    if day is None:
        return ""
    return f"{day:%A}, {day:%B} {day.day}"


def _status_message(view: OrderView, days: dict[str, date | None], eta: date | None) -> str:
    carrier = view.carrier or "the carrier"
    if view.status is OrderStatus.PROCESSING:
        return (
            "Your order is being prepared and hasn't shipped yet. You'll get a tracking "
            "number by email within 24 hours of it leaving our warehouse."
        )
    if view.status is OrderStatus.SHIPPED:
        when = f" on {_spoken(days['shipped_on'])}" if days["shipped_on"] else ""
        parts = [f"Good news: your order shipped{when} with {carrier}."]
        if view.tracking_number:
            parts.append(f"Your tracking number is {view.tracking_number}.")
        if eta:
            parts.append(f"It should arrive by {_spoken(eta)}.")
        if view.tracking_url:
            parts.append("Would you like the tracking link?")
        return " ".join(parts)
    if view.status is OrderStatus.DELIVERED:
        when = f" on {_spoken(days['delivered_on'])}" if days["delivered_on"] else ""
        return (
            f"According to {carrier}, your order was delivered{when}. If it hasn't turned up, "
            "give it 48 hours (carriers sometimes mark parcels early), then tell us and we'll "
            "look into it. Was there an issue with the delivery?"
        )
    if view.status is OrderStatus.CANCELLED:
        when = f" on {_spoken(days['cancelled_on'])}" if days["cancelled_on"] else ""
        return (
            f"This order was cancelled{when}. We can tell you more about why, or help you "
            "place a new order."
        )
    when = f" on {_spoken(days['refunded_on'])}" if days["refunded_on"] else ""
    return (
        f"This order was refunded{when}. The money goes back to your original payment "
        "method and can take a few business days to appear."
    )


# Addresses: the city and postal code, never the street.

_US = re.compile(
    r"^(?P<city>[^\d]*?)[\s,]*\b[A-Z]{2}\.?\s+(?P<postal>\d{5}(?:-\d{4})?)$", re.IGNORECASE
)
_TRAILING_POSTAL = re.compile(
    r"^(?P<city>[^\d]*?)[\s,]*(?:\b(?-i:[A-Z]{2,3})\.?\s+)?"  # a state or province code
    r"\b(?P<postal>[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}"  # UK
    r"|[A-Z]\d[A-Z]\s?\d[A-Z]\d"  # Canada
    r"|\d{4,6})$",  # Australia and others
    re.IGNORECASE,
)
_LEADING_POSTAL = re.compile(
    r"^(?P<postal>\d{4}\s?[A-Z]{2}|\d{2}-\d{3}|\d{4,5}|[A-Z]{1,2}-\d{4,5})\s+(?P<city>[^\d]+)$",
    re.IGNORECASE,
)
_COUNTRY = re.compile(
    r"^(usa?|united states( of america)?|uk|united kingdom|gb|great britain|england|scotland|"
    r"wales|ireland|canada|australia|germany|deutschland|france|spain|espa[nñ]a|italy|italia|"
    r"netherlands|nederland|the netherlands|belgium|austria|[öo]sterreich|switzerland|schweiz|"
    r"poland|polska|portugal|sweden|denmark|norway|finland|new zealand|[a-z]{2})$",
    re.IGNORECASE,
)


_STREETISH = re.compile(
    r"^(apt|apartment|unit|suite|ste|flat|floor|po box|rue|calle|via|avenida)\b"  # leading words
    r"|\b(st|street|rd|road|ave|avenue|blvd|boulevard|ln|lane|dr|drive|way|ct|court|pl|place|"
    r"hwy|highway|str|stra(ß|ss)e|weg|laan|close|crescent|terrace)\.?$",  # street endings
    re.IGNORECASE,
)


_STREET_WORD = re.compile(
    r"\b(st|street|rd|road|ave|avenue|blvd|boulevard|ln|lane|dr|drive|way|ct|court|pl|place|"
    r"hwy|highway|str|stra(ß|ss)e|weg|laan|close|crescent|terrace|row|square|sq|gardens|mews|"
    r"house|cottage|farm|rectory|lodge|manor|barn|hall|mill|building|tower|flat|apt|unit|"
    r"suite|floor|box)\b\.?",
    re.IGNORECASE,
)


def _city(text: str) -> str | None:
    """A city name, or None when the text could be part of a street or house line.

    A street or building word anywhere (``Terrace``, ``Rectory``) rules the text
    out, except a leading ``St.`` as in ``St. Louis``; so does a digit, or more
    than four words. What is not recognised is left out, never guessed.
    """
    text = " ".join(text.split()).strip(" ,.-")
    rest = re.sub(r"^(st\.|saint|ste\.)\s+", "", text, flags=re.IGNORECASE)
    if not text or re.search(r"\d", text) or _STREET_WORD.search(rest) or _STREETISH.search(rest):
        return None
    return text if len(text.split()) <= 4 else None


def _structured(address: str) -> tuple[str | None, str | None] | None:
    """City and postal code from an address held as a JSON object, if it is one."""
    if not address.lstrip().startswith("{"):
        return None
    try:
        data = json.loads(address)
    except ValueError:
        return (None, None)
    if not isinstance(data, dict):
        return (None, None)

    def first(*names: str) -> str | None:
        for name in names:
            value = data.get(name)
            if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
                return " ".join(str(value).split())[:64]
        return None

    return first("city", "town", "locality"), first("postal_code", "postcode", "zip", "zip_code")


def city_and_postal_code(address: str) -> tuple[str | None, str | None]:
    """The city and postal code of an address; never its street, never a guess.

    An address held as a JSON object gives its ``city`` and ``postal_code``
    (or ``zip``). A one-line address gives them only when a postal code is
    recognised, with the city beside it:
    ``123 Main St, Austin, TX 78701`` gives ``("Austin", "78701")``;
    ``10 Downing St, London SW1A 2AA`` gives ``("London", "SW1A 2AA")``;
    ``Hauptstr. 5, 10115 Berlin, Germany`` gives ``("Berlin", "10115")``.
    """
    structured = _structured(address)
    if structured is not None:
        return structured
    parts = [part.strip() for part in re.split(r"[,\n;]+", address) if part.strip()]
    if len(parts) > 2 and _COUNTRY.match(parts[-1]):
        parts = parts[:-1]
    later = parts[1:]
    for index in range(len(later) - 1, -1, -1):
        found = _match_part(later[index])
        if found is None:
            continue
        city, postal = found
        if city is None and index > 0:
            city = _city(later[index - 1])
        return city, postal
    return None, None


def _match_part(part: str) -> tuple[str | None, str] | None:
    for pattern in (_US, _LEADING_POSTAL, _TRAILING_POSTAL):
        match = pattern.match(part)
        if match:
            return _city(match.group("city")), " ".join(match.group("postal").upper().split())
    return None


# Payment: a brand and the last four digits, never more.

_BRANDS = (
    ("american express", "American Express"),
    ("amex", "American Express"),
    ("mastercard", "Mastercard"),
    ("master card", "Mastercard"),
    ("visa", "Visa"),
    ("discover", "Discover"),
    ("diners", "Diners Club"),
    ("jcb", "JCB"),
    ("unionpay", "UnionPay"),
    ("maestro", "Maestro"),
    ("paypal", "PayPal"),
    ("apple pay", "Apple Pay"),
    ("google pay", "Google Pay"),
    ("shop pay", "Shop Pay"),
    ("klarna", "Klarna"),
    ("afterpay", "Afterpay"),
    ("gift card", "Gift card"),
)
_DIGIT_RUN = re.compile(r"(?<!\d)\d(?:[ -]?\d)*(?!\d)")
_MASKED = re.compile(
    r"(?:[*x•#.]{2,}[ -]?|(?:ending|ends)(?: in)?[: ]*|last (?:4|four)(?: digits)?[: ]*)"
    r"(?P<last>\d{4})(?!\d)",
    re.IGNORECASE,
)


def payment_summary(method: str) -> str | None:
    """``Visa ending in 4242`` from whatever the order holds; None when nothing is safe to say.

    The last four digits come only from a card number (12 to 19 digits,
    spaces or dashes allowed) or from a masked one
    (``**** 4242``, ``ending in 4242``); a lone year or an expiry date
    (``exp 12/2029``) is never taken for them. Nothing but a known brand and
    those four digits is ever returned.
    """
    lowered = method.lower()
    brand = next((name for word, name in _BRANDS if word in lowered), None)
    last_four = ""
    for run in _DIGIT_RUN.findall(method):
        digits = re.sub(r"\D", "", run)
        if 12 <= len(digits) <= 19:
            last_four = digits[-4:]
    if not last_four:
        masked = _MASKED.search(method)
        last_four = masked.group("last") if masked else ""
    if last_four:
        return f"{brand or 'Card'} ending in {last_four}"
    return brand
