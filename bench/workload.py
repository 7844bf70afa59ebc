"""A synthetic queue: N requests of every type against N orders in every state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sheetqueue.sheets.model import Request

__all__ = ["NOW", "orders", "requests"]

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
TYPES = ("cancellation", "refund", "return", "exchange", "address_change", "unsubscribe", "support")


def orders(count: int) -> list[dict[str, Any]]:
    """``count`` orders cycling through processing, shipped and delivered at various ages."""
    shapes: list[dict[str, Any]] = [
        {"status": "processing"},
        {"status": "shipped", "shipped_at": (NOW - timedelta(days=2)).isoformat()},
        {"status": "delivered", "delivered_at": (NOW - timedelta(days=5)).isoformat()},
        {"status": "delivered", "delivered_at": (NOW - timedelta(days=40)).isoformat()},
        {"status": "delivered", "delivered_at": (NOW - timedelta(days=100)).isoformat()},
    ]
    return [
        {
            "order_id": f"ORD-{n:06d}",
            "email": f"shopper{n}@example.com",
            "order_date": "2026-06-01",
            "items": [
                {"sku": "TEE-1", "name": "Tee", "qty": 1, "price": 20.0, "category": "apparel"}
            ],
            "total": 20.0,
            **shapes[n % len(shapes)],
        }
        for n in range(count)
    ]


CLOSED = ("Done", "Rejected", "Ineligible")


def requests(count: int, open_every: int = 1) -> list[Request]:
    """``count`` requests, one per order: one in ``open_every`` Pending, the rest closed.

    ``open_every=50`` is a sheet that is mostly history (98 % closed), as a
    shop's sheet is after a few months; 1 makes every row Pending.
    """
    stamp = (NOW - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [
        Request(
            request_id=f"REQ-BENCH{n:011d}",
            timestamp=stamp,
            type=TYPES[n % len(TYPES)],
            status="Pending" if n % open_every == 0 else CLOSED[n % len(CLOSED)],
            order_id=f"ORD-{n:06d}",
            email=f"shopper{n}@example.com",
            conversation_id=f"conv-{n}",
        )
        for n in range(count)
    ]
