"""Returns-portal payloads: what the chat widget needs to open the returns flow.

The widget takes an "advanced chat activity": ``initialise_return`` with the
returns flow's id, its external account key and the inputs (``order_number``
required, ``step_type`` and any custom properties optional), or
``initialise_return_error`` with words to show in its error popup.

The portal opens only for an order whose owner was verified and whose return
the policy allows (``eligible``). A return that needs a person (``review``:
just past the window, a damaged item, an exception) or that the policy
forbids gets the error payload with the decision's own words, so the bot can
offer a handoff instead of a portal that would fail later. A return asked
after its window closed (``outsideWindow``, and the late ones a manager must
approve: ``graceWindow``, ``lateReturnReview``) gets its own activity,
``return_overdue``, so the widget can show its "return overdue" component.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sheetqueue.config.settings import Settings

__all__ = [
    "NOT_CONFIGURED_MESSAGE",
    "OVERDUE_CODES",
    "ReturnsPortal",
    "error_payload",
    "initialise_payload",
    "overdue_payload",
    "valid_step_type",
]

NOT_CONFIGURED_MESSAGE = (
    "We can't open the returns portal in the chat right now. "
    "Please ask us for a return here and our team will help."
)
OVERDUE_CODES = frozenset({"outsideWindow", "graceWindow", "lateReturnReview"})
"""Decision codes that mean the return window has closed."""
_STEP = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True)
class ReturnsPortal:
    """The chat platform's returns flow: ``returns_flow_id`` and ``returns_account_key``."""

    flow_id: str = ""
    account_key: str = ""

    @property
    def configured(self) -> bool:
        return bool(self.flow_id.strip() and self.account_key.strip())

    @classmethod
    def from_settings(cls, settings: Settings) -> ReturnsPortal:
        """``SHEETQUEUE_RETURNS_FLOW_ID`` and ``SHEETQUEUE_RETURNS_ACCOUNT_KEY``."""
        return cls(settings.returns_flow_id, settings.returns_account_key.get_secret_value())


def initialise_payload(
    portal: ReturnsPortal,
    order_number: str,
    *,
    step_type: str = "",
    inputs: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``initialise_return`` activity; ``order_number`` always wins over ``inputs``."""
    merged: dict[str, Any] = {key: value for key, value in (inputs or {}).items()}
    merged["order_number"] = order_number
    if step_type:
        merged["step_type"] = step_type
    return {
        "type": "initialise_return",
        "returnFlowId": portal.flow_id,
        "externalAccountKey": portal.account_key,
        "inputs": merged,
    }


def error_payload(message: str) -> dict[str, Any]:
    """The ``initialise_return_error`` activity, shown as a popup in the widget."""
    return {"type": "initialise_return_error", "message": message}


def overdue_payload(message: str, decision: str) -> dict[str, Any]:
    """The ``return_overdue`` activity: the window closed; the decision says what may follow."""
    return {"type": "return_overdue", "message": message, "decision": decision}


def valid_step_type(step_type: str) -> bool:
    """A step name as the portal spells them (``product_selection``, ``return_details``)."""
    return bool(_STEP.match(step_type))
