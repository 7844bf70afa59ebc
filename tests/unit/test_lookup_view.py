"""What a verified shopper sees: city and postcode only, last four only, words per status."""

from __future__ import annotations

import json
import re
from datetime import UTC
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sheetqueue.bot_actions.order_view import city_and_postal_code, order_view, payment_summary
from tests import factories

make_order = partial(
    factories.make_order,
    status="shipped",
    order_date="2026-03-01",
    shipped_at="2026-03-03T15:00:00Z",
    items=[{"sku": "TEE-1", "name": "Classic Tee - Navy, Size M", "qty": 2, "price": 29.99}],
    carrier="UPS",
    tracking_number="1Z999AA10123456784",
    estimated_delivery="2026-03-08",
)


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("123 Main St, Austin, TX 78701", ("Austin", "78701")),
        ("123 Main St, Austin TX 78701-1234, USA", ("Austin", "78701-1234")),
        ("1 Market St, St. Louis, MO 63101", ("St. Louis", "63101")),
        ("10 Downing St, London SW1A 2AA", ("London", "SW1A 2AA")),
        ("10 Downing Street, London, SW1A 2AA, United Kingdom", ("London", "SW1A 2AA")),
        ("Hauptstr. 5, 10115 Berlin, Germany", ("Berlin", "10115")),
        ("Keizersgracht 1, 1015 CJ Amsterdam", ("Amsterdam", "1015 CJ")),
        ("12 Rue de Rivoli, 75001 Paris, France", ("Paris", "75001")),
        ("1 King St W, Toronto, ON M5H 1A1, Canada", ("Toronto", "M5H 1A1")),
        ("5 George St, Sydney NSW 2000, Australia", ("Sydney", "2000")),
        ("123 Main St", (None, None)),
        ("Flat 2, 1234 Elm Road", (None, "1234")),
        ("", (None, None)),
        ("742, Evergreen Terrace Springfield, OR 97403", (None, "97403")),
        ("742 Evergreen Terrace, Springfield", (None, None)),
        ("2 Church Lane, The Old Rectory", (None, None)),
        ("Flat 1, The Old Rectory, Norwich", (None, None)),
        (
            '{"line1": "742 Evergreen Terrace", "city": "Springfield", "zip": "97403"}',
            ("Springfield", "97403"),
        ),
        ('{"line1": "742 Evergreen Terrace"}', (None, None)),
        ("{not json", (None, None)),
    ],
)
def test_city_and_postal_code(address: str, expected: tuple[str | None, str | None]) -> None:
    """City and postal code from JSON or recognised text; a street or house line is left out."""
    assert city_and_postal_code(address) == expected


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("Visa ending in 4242", "Visa ending in 4242"),
        ("VISA 4111 1111 1111 1111", "Visa ending in 1111"),
        ("Mastercard 5555-5555-5555-4444 exp 12/28", "Mastercard ending in 4444"),
        ("amex ****1005", "American Express ending in 1005"),
        ("4000056655665556", "Card ending in 5556"),
        ("PayPal (ana@example.com)", "PayPal"),
        ("Visa exp 12/2029", "Visa"),
        ("Visa, expires 2029", "Visa"),
        ("Visa ending in 4242, exp 09/2031", "Visa ending in 4242"),
        ("Mastercard xxxx-xxxx-xxxx-4444", "Mastercard ending in 4444"),
        ("card 2029", None),
        ("Ana Lopez", None),
        ("", None),
    ],
)
def test_payment_shows_brand_and_last_four_only(method: str, expected: str | None) -> None:
    """Only a brand and the last four of a card number are shown; never a year, name or email."""
    assert payment_summary(method) == expected


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"status": "processing", "shipped_at": None}, "hasn't shipped yet"),
        ({}, "shipped on Tuesday, March 3 with UPS"),
        ({"status": "delivered", "delivered_at": "2026-03-07T18:00:00Z"}, "delivered on Saturday"),
        ({"status": "cancelled", "cancelled_at": "2026-03-02T09:00:00Z"}, "cancelled on Monday"),
        ({"status": "refunded", "refunded_at": "2026-03-20T09:00:00Z"}, "refunded on Friday"),
    ],
)
def test_each_status_has_its_own_sentence(overrides: dict[str, Any], words: str) -> None:
    """Processing, shipped, delivered, cancelled and refunded each get their own words."""
    view = order_view(make_order(**overrides), UTC)
    assert words in view.status_message


def test_shipped_sentence_has_tracking_and_eta() -> None:
    """A shipped order's sentence gives the tracking number and the arrival date."""
    message = order_view(make_order(), UTC).status_message
    assert "1Z999AA10123456784" in message
    assert "arrive by Sunday, March 8" in message


def test_tracking_link_only_when_known() -> None:
    """No tracking link key when there is none, or when it is not an http(s) link."""
    assert "tracking_url" not in order_view(make_order(), UTC).public_dict()
    bad = order_view(make_order(tracking_url="javascript:alert(1)"), UTC)
    assert "tracking_url" not in bad.public_dict()
    good = order_view(make_order(tracking_url="https://track.example/1Z9"), UTC)
    assert good.public_dict()["tracking_url"] == "https://track.example/1Z9"
    assert "tracking link" in good.status_message


def test_dates_are_in_the_store_zone() -> None:
    """A delivery at 02:00 UTC is the previous evening in New York."""
    order = make_order(status="delivered", delivered_at="2026-03-08T02:00:00Z")
    assert order_view(order, ZoneInfo("America/New_York")).delivered_on == "2026-03-07"
    assert order_view(order, UTC).delivered_on == "2026-03-08"


def test_unreadable_eta_is_left_out() -> None:
    """An estimated delivery that is not a date is not shown at all."""
    view = order_view(make_order(estimated_delivery="soon-ish"), UTC)
    assert "estimated_delivery" not in view.public_dict()
    assert "arrive by" not in view.status_message


_STREET_NAMES = st.sampled_from(["Main", "Oak", "Elm", "Maple", "Cedar", "High", "Baker"])
_SUFFIXES = st.sampled_from(["St", "Street", "Ave", "Road", "Blvd", "Lane", "Way"])
_CITIES = st.sampled_from(["Austin", "London", "Berlin", "Paris", "Springfield", "Leeds"])
_TAILS = st.sampled_from(["TX 78701", "SW1A 2AA", "", "CA 90210", "NSW 2000"])


@st.composite
def card_numbers(draw: st.DrawFn) -> str:
    digits = draw(st.text("0123456789", min_size=13, max_size=19))
    separator = draw(st.sampled_from(["", " ", "-"]))
    return separator.join(digits[i : i + 4] for i in range(0, len(digits), 4))


@settings(max_examples=150, deadline=None)
@given(
    number=st.integers(min_value=1, max_value=99999),
    street=_STREET_NAMES,
    suffix=_SUFFIXES,
    unit=st.sampled_from(["", "Apt 4B, ", "Suite 200, "]),
    city=_CITIES,
    tail=_TAILS,
    country=st.sampled_from(["", ", USA", ", United Kingdom"]),
    card=card_numbers(),
    brand=st.sampled_from(["Visa", "mastercard", "", "card no."]),
    expiry=st.sampled_from(["", " exp 12/28", " 09/2031"]),
    status=st.sampled_from(["processing", "shipped", "delivered", "cancelled", "refunded"]),
)
def test_no_card_number_or_street_in_any_lookup_output(
    number: int,
    street: str,
    suffix: str,
    unit: str,
    city: str,
    tail: str,
    country: str,
    card: str,
    brand: str,
    expiry: str,
    status: str,
) -> None:
    """Whatever the order holds, the view never contains the full card number or street line."""
    street_line = f"{number} {street} {suffix}"
    address = f"{street_line}, {unit}{city}{', ' + tail if tail else ''}{country}"
    order = make_order(
        status=status,
        shipping_address=address,
        payment_method=f"{brand} {card}{expiry}".strip(),
        delivered_at="2026-03-07T18:00:00Z",
    )
    view = order_view(order, UTC)
    shown = json.dumps(view.public_dict())
    card_digits = re.sub(r"\D", "", card)
    assert card not in shown
    assert card_digits not in re.sub(r"[ -]", "", shown)
    assert street_line not in shown
    assert address not in shown
    assert f"{street} {suffix}" not in (view.city or "")
    assert view.payment is None or len(re.sub(r"\D", "", view.payment)) <= 4
