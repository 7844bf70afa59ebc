"""Sample orders for the demo: one for each case the policy knows, dated from today."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

__all__ = ["DEMO_REQUESTS", "demo_orders"]


def _item(sku: str, name: str, price: float, category: str, **extra: Any) -> dict[str, Any]:
    return {"sku": sku, "name": name, "qty": 1, "price": price, "category": category, **extra}


TEE = _item("TEE-NVY-M", "Classic Tee - Navy, Size M", 29.99, "apparel")
JOGGER = _item("JOG-BLK-L", "Jogger Pants - Black, Size L", 49.99, "apparel")
EARBUDS = _item("BUDS-2", "Wireless Earbuds", 89.00, "electronics")
GIFT = _item("GIFT-50", "Gift Card $50", 50.00, "gift_card")
SALE = _item("TEE-SALE", "Clearance Tee", 9.99, "apparel", final_sale=True)


def demo_orders(now: datetime) -> list[dict[str, Any]]:
    """Thirteen orders covering every rule: windows, categories, tiers, states."""

    def ago(days: float) -> str:
        return (now - timedelta(days=days)).isoformat(timespec="seconds")

    def order(number: int, status: str, items: list[Any], **extra: Any) -> dict[str, Any]:
        base: dict[str, Any] = {
            "order_id": f"ORD-{number}",
            "email": f"shopper{number}@example.com",
            "phone": f"+1512555{number:04d}",
            "status": status,
            "order_date": ago(60)[:10],
            "items": items,
            "total": round(sum(i["price"] * i["qty"] for i in items), 2),
            "currency": "USD",
            "shipping_address": "123 Main St, Austin, TX 78701",
            "payment_method": "Visa ending in 4242",
            "customer": {"total_spent": 240.0, "order_count": 3},
        }
        return base | extra

    shipped = {
        "carrier": "UPS",
        "tracking_number": "1Z999AA10123456784",
        "tracking_url": "https://track.example/1Z999AA10123456784",
    }
    return [
        order(1001, "processing", [TEE, JOGGER], order_date=ago(1)[:10]),
        order(
            1002, "shipped", [TEE], shipped_at=ago(2), estimated_delivery=ago(-3)[:10], **shipped
        ),
        order(1003, "delivered", [TEE, JOGGER], shipped_at=ago(9), delivered_at=ago(6), **shipped),
        order(1004, "delivered", [JOGGER], shipped_at=ago(43), delivered_at=ago(40), **shipped),
        order(1005, "delivered", [EARBUDS], shipped_at=ago(13), delivered_at=ago(10), **shipped),
        order(1006, "delivered", [EARBUDS], shipped_at=ago(23), delivered_at=ago(20), **shipped),
        order(1007, "delivered", [SALE], shipped_at=ago(6), delivered_at=ago(3), **shipped),
        order(1008, "delivered", [GIFT], shipped_at=ago(6), delivered_at=ago(3), **shipped),
        order(
            1009,
            "refunded",
            [TEE],
            shipped_at=ago(20),
            delivered_at=ago(17),
            refunded_at=ago(5),
            **shipped,
        ),
        order(1010, "cancelled", [JOGGER], cancelled_at=ago(8)),
        order(
            1011,
            "delivered",
            [JOGGER],
            shipped_at=ago(38),
            delivered_at=ago(35),
            customer={"total_spent": 1850.0, "order_count": 14},
            **shipped,
        ),
        order(
            1012,
            "delivered",
            [TEE],
            shipped_at=ago(33),
            delivered_at=ago(30),
            customer={"total_spent": 29.99, "order_count": 1},
            **shipped,
        ),
        order(1013, "delivered", [EARBUDS], shipped_at=ago(48), delivered_at=ago(45), **shipped),
    ]


DEMO_REQUESTS: list[dict[str, Any]] = [
    {"type": "cancellation", "order_id": "ORD-1002", "reason": "Ordered the wrong size"},
    {"type": "refund", "order_id": "ORD-1004", "reason": "Changed my mind"},
    {
        "type": "return",
        "order_id": "ORD-1003",
        "reason": "Too small",
        "details": {"sku": "TEE-NVY-M"},
    },
    {
        "type": "exchange",
        "order_id": "ORD-1005",
        "reason": "Want the white ones",
        "details": {"color": "white"},
    },
    {
        "type": "address_change",
        "order_id": "ORD-1001",
        "details": {"new_address": "9 Elm Rd, Austin, TX 78702"},
    },
    {"type": "unsubscribe", "order_id": "ORD-1012", "reason": "Too many emails"},
    {
        "type": "support",
        "order_id": "ORD-1013",
        "reason": "Earbuds arrived broken",
        "details": {"damaged": True},
    },
]
