"""Test data builders: one sensible default, overridden per test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sheetqueue.sheets.model import LogEntry, Request, RequestType, Status
from sheetqueue.sheets.orders import Order, order_from_record
from sheetqueue.worker.notify import Notice, OutgoingMessage, build_message

__all__ = [
    "PROCESSING",
    "SHIPPED",
    "TYPES",
    "day",
    "make_log_entry",
    "make_message",
    "make_notice",
    "make_order",
    "make_order_record",
    "make_request",
    "orders_in_every_state",
    "request_for_order",
]

BASE = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def day(offset: float, base: datetime = BASE) -> datetime:
    """``BASE`` plus ``offset`` days: readable fixed dates for tests."""
    return base + timedelta(days=offset)


def make_order_record(**overrides: Any) -> dict[str, Any]:
    """An order as the order data holds it (a dict, as in a JSON file)."""
    record: dict[str, Any] = {
        "order_id": "ORD-1001",
        "email": "ana@example.com",
        "phone": "+15125550100",
        "status": "processing",
        "order_date": "2026-11-01",
        "items": [
            {
                "sku": "TEE-NVY-M",
                "name": "Classic Tee - Navy, Size M",
                "qty": 2,
                "price": 29.99,
                "category": "apparel",
                "final_sale": False,
            }
        ],
        "total": 59.98,
        "currency": "USD",
        "shipping_address": "123 Main St, Austin, TX 78701",
        "payment_method": "Visa ending in 4242",
        "customer": {"total_spent": 200.0, "order_count": 3},
    }
    record.update(overrides)
    return record


SHIPPED = make_order_record(
    order_id="ORD-SHIP", status="shipped", shipped_at=day(3).isoformat(), carrier="UPS"
)
PROCESSING = make_order_record(order_id="ORD-PROC", status="processing")


def make_order(**overrides: Any) -> Order:
    """An order as the worker and the bot read it: :func:`make_order_record`, validated.

    A test module that wants other defaults binds them once:
    ``make_order = functools.partial(factories.make_order, status="delivered")``.
    """
    return order_from_record(make_order_record(**overrides))


def make_request(**overrides: Any) -> Request:
    """A request row as the queue holds it."""
    values: dict[str, Any] = {
        "request_id": "REQ-TEST0000000000001",
        "timestamp": "2026-11-02T10:00:00Z",
        "type": "return",
        "status": "Pending",
        "order_id": "ORD-1001",
        "email": "ana@example.com",
        "conversation_id": "conv-1",
    }
    values.update(overrides)
    return Request(**values)


def make_log_entry(**overrides: Any) -> LogEntry:
    """An audit-log line: the worker moving ``REQ-A`` from Pending to Eligible."""
    fields: dict[str, Any] = {
        "time": "2026-11-22T09:30:00Z",
        "request_id": "REQ-A",
        "from_status": "Pending",
        "to_status": "Eligible",
        "by": "worker",
    }
    fields.update(overrides)
    return LogEntry(**fields)


def make_notice(**overrides: Any) -> Notice:
    """What the shopper is to be told: a Done refund at Tidy Threads by default."""
    fields: dict[str, Any] = {
        "request_id": "REQ-7K2M",
        "request_type": RequestType.REFUND,
        "status": Status.DONE,
        "order_id": "ORD-1001",
        "email": "ana@example.com",
        "phone": "+15125550100",
        "store_name": "Tidy Threads",
    }
    fields.update(overrides)
    return Notice(**fields)


def make_message(*, mail_from: str = "help@tidy.example", **overrides: Any) -> OutgoingMessage:
    """:func:`make_notice` rendered into the message every notifier sends."""
    return build_message(make_notice(**overrides), mail_from=mail_from)


TYPES = tuple(kind.value for kind in RequestType)
"""Every request type, in the order workloads cycle through them."""


def orders_in_every_state(count: int, today: datetime) -> list[dict[str, Any]]:
    """``ORD-0000``... of ``s0@example.com``...: processing, shipped, delivered 5/40/100 days."""
    shapes: list[dict[str, Any]] = [
        {"status": "processing"},
        {"status": "shipped", "shipped_at": (today - timedelta(days=2)).isoformat()},
        {"status": "delivered", "delivered_at": (today - timedelta(days=5)).isoformat()},
        {"status": "delivered", "delivered_at": (today - timedelta(days=40)).isoformat()},
        {"status": "delivered", "delivered_at": (today - timedelta(days=100)).isoformat()},
    ]
    return [
        make_order_record(
            order_id=f"ORD-{n:04d}",
            email=f"s{n}@example.com",
            order_date=(today - timedelta(days=120)).date().isoformat(),
            **shapes[n % len(shapes)],
        )
        for n in range(count)
    ]


def request_for_order(n: int, asked_at: datetime, *, prefix: str = "REQ-TEST") -> Request:
    """A Pending request of the n-th type on order ``n`` of :func:`orders_in_every_state`."""
    return make_request(
        request_id=f"{prefix}{n:011d}",
        timestamp=asked_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        type=TYPES[n % len(TYPES)],
        order_id=f"ORD-{n:04d}",
        email=f"s{n}@example.com",
        conversation_id=f"c{n}",
    )
