"""Shops' own order-API answers (two documented sample shapes) through the HTTP order source."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sheetqueue.config.loading import load_settings
from sheetqueue.sheets.order_sources import open_order_source
from sheetqueue.sheets.orders import OrderStatus
from sheetqueue.sheets.sqlite_store import SqliteStore
from tests.integration.test_order_api import OrderApi

# The voice-agent tutorial's sample answer: order_number, text address, no email.
VOICE_SAMPLE = {
    "order_number": "ORD-12345",
    "status": "shipped",
    "items": [
        {"name": "Classic Tee - Navy, Size M", "qty": 2, "price": 29.99},
        {"name": "Jogger Pants - Black, Size L", "qty": 1, "price": 49.99},
    ],
    "subtotal": 109.97,
    "shipping": "free",
    "total": 109.97,
    "tracking_number": "1Z999AA10123456784",
    "carrier": "UPS",
    "estimated_delivery": "2026-03-08",
    "shipping_address": "123 Main St, Austin, TX 78701",
    "order_date": "2026-03-01",
    "payment_method": "Visa ending in 4242",
}
# The chat-platform pattern's answer: id, camelCase flags and times, structured address.
CHAT_SAMPLE = {
    "id": "A-778",
    "email": "ana@example.com",
    "items": [{"sku": "MUG-1", "name": "Mug", "quantity": 1, "price": 12.5}],
    "trackingNumber": "JD0146000",
    "trackingUrl": "https://track.example.com/JD0146000",
    "estimatedDelivery": "2026-03-06",
    "isDelivered": True,
    "isRefunded": False,
    "deliveredAt": "2026-03-05T14:20:00",
    "refundedAt": None,
    "total": 12.5,
    "shippingAddress": {"line1": "12 Rue de Rivoli", "city": "Paris", "zip": "75001"},
    "totalWeight": 1.0,
}


@pytest.fixture
def api() -> Iterator[OrderApi]:
    """The order API, serving on 127.0.0.1."""
    with OrderApi() as server:
        yield server


def _source(api: OrderApi, tmp_path: Path) -> object:
    settings = load_settings(orders=api.url, timezone="Europe/Paris")
    return open_order_source(settings, SqliteStore(tmp_path / "q.db"))


def test_the_voice_sample_answer_reads_as_an_order_with_the_asked_email(
    api: OrderApi, tmp_path: Path
) -> None:
    """order_number, a text address and no email: the order, city and postal code only."""
    api.script = [("json", (200, VOICE_SAMPLE))]
    source = _source(api, tmp_path)
    order = source.get("ORD-12345", "customer@email.com")  # type: ignore[attr-defined]
    assert order.order_id == "ORD-12345" and order.email == "customer@email.com"
    assert order.status is OrderStatus.SHIPPED
    assert (order.city, order.postal_code, order.shipping_address) == ("Austin", "78701", "")
    assert [item.qty for item in order.items] == [2, 1]
    assert order.payment_method == "Visa ending in 4242"
    assert order.estimated_delivery == "2026-03-08"
    assert api.seen[0]["query"]["order_id"] == ["ORD-12345"]


def test_the_chat_sample_answer_reads_its_flags_times_and_structured_address(
    api: OrderApi, tmp_path: Path
) -> None:
    """id, isDelivered and deliveredAt give a delivered order; the address gives Paris 75001."""
    api.script = [("json", (200, CHAT_SAMPLE))]
    order = _source(api, tmp_path).get("A-778", "ana@example.com")  # type: ignore[attr-defined]
    assert order.order_id == "A-778" and order.status is OrderStatus.DELIVERED
    assert order.delivered_at == datetime(2026, 3, 5, 13, 20, tzinfo=UTC)  # Paris time
    assert order.tracking_url == "https://track.example.com/JD0146000"
    assert (order.city, order.postal_code) == ("Paris", "75001")
    assert order.items[0].qty == 1


def test_a_refunded_flag_wins_over_the_status_word(api: OrderApi, tmp_path: Path) -> None:
    """isRefunded true makes the order refunded even when its status says delivered."""
    api.script = [("json", (200, {**CHAT_SAMPLE, "status": "delivered", "isRefunded": True}))]
    order = _source(api, tmp_path).get("A-778", "ana@example.com")  # type: ignore[attr-defined]
    assert order.status is OrderStatus.REFUNDED
