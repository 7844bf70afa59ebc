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


def requests(count: int) -> list[Request]:
    """``count`` Pending requests, one per order."""
    stamp = (NOW - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [
        Request(
            request_id=f"REQ-BENCH{n:011d}",
            timestamp=stamp,
            type=TYPES[n % len(TYPES)],
            status="Pending",
            order_id=f"ORD-{n:06d}",
            email=f"shopper{n}@example.com",
            conversation_id=f"conv-{n}",
        )
        for n in range(count)
    ]
