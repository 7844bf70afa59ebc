"""The store's policy: return and refund windows, exceptions, customer tiers.

Defaults come from the return policy and refund variants the product grew
from. Every value can be changed in the ``[policy]`` table of the TOML file or
with ``SHEETQUEUE_POLICY__<NAME>`` variables.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["Policy"]

_DEFAULT_LADDER: tuple[int, ...] = (15, 30)


class Policy(BaseModel):
    """What the store allows, in days and categories."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    return_window_days: int = Field(30, ge=0, description="days from delivery to ask for a return")
    category_windows: dict[str, int] = Field(
        default_factory=lambda: {"electronics": 15},
        description="shorter or longer return windows per item category",
    )
    non_returnable_categories: tuple[str, ...] = Field(
        ("gift_card", "personalized"), description="categories that can never be returned"
    )
    exchange_window_days: int | None = Field(
        None, ge=0, description="days from delivery for an exchange; the return window when unset"
    )
    full_refund_days: int = Field(14, ge=0, description="full refund within this many days")
    partial_refund_days: int = Field(
        60, ge=0, description="partial refund or store credit (to review) up to this many days"
    )
    grace_days: int = Field(
        3, ge=0, description="days past a window that go to review instead of a flat no"
    )
    vip_min_total_spent: float = Field(1000.0, ge=0, description="VIP when spent is above this")
    vip_min_order_count: int = Field(10, ge=0, description="VIP when orders are above this")
    vip_extra_days: int = Field(15, ge=0, description="extra return-window days for VIPs")
    vip_full_refund: bool = Field(True, description="VIPs get a full refund up to 60 days")
    vip_refund_no_questions: bool = Field(
        False, description="VIPs get a full refund at any time after delivery, no questions asked"
    )
    late_return_review: bool = Field(
        True, description="returns past the window (and its grace) go to a manager, not a no"
    )
    late_return_review_days: int = Field(
        60, ge=0, description="...up to this many days after delivery; a flat no after"
    )
    not_received_wait_hours: int = Field(
        48, ge=0, description="hours after delivery before a missing parcel is investigated"
    )
    first_order_full_refund: bool = Field(
        True, description="first-time buyers get a full refund up to 60 days"
    )
    first_order_discount_code: str = Field(
        "", description="code offered to first-time buyers after a refund; empty for none"
    )
    return_ship_back_days: int = Field(7, ge=0, description="days to send a return back")
    retention_ladders: dict[str, tuple[int, ...]] = Field(
        default_factory=lambda: {"A": _DEFAULT_LADDER},
        description="partial-refund offers (percent) before a cancellation, by ladder id",
    )
    retention_min_total: float = Field(
        0.0, ge=0, description="no retention offers for orders whose total is under this"
    )
    refund_processing_days: str = Field("5-7", description="business days a refund takes")
    lookup_max_failures: int = Field(
        2, ge=1, description="failed order lookups in one conversation before it locks"
    )

    @field_validator("retention_ladders")
    @classmethod
    def _percentages(cls, value: dict[str, tuple[int, ...]]) -> dict[str, tuple[int, ...]]:
        for name, steps in value.items():
            if not name.strip() or any(not 0 < step <= 100 for step in steps):
                raise ValueError(f"ladder {name!r}: each offer is a percentage from 1 to 100")
        return value

    def window_for_category(self, category: str | None) -> int:
        """The return window, in days from delivery, for an item of ``category``."""
        if category and category.lower() in self.category_windows:
            return self.category_windows[category.lower()]
        return self.return_window_days

    def is_returnable_category(self, category: str | None) -> bool:
        """False for categories the store never takes back (gift cards, personalized)."""
        return not (category and category.lower() in self.non_returnable_categories)
