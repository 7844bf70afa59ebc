"""Sheet events for tests: batches in the wire format, signed as the Apps Script signs them."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

__all__ = ["SECRET", "batch", "event", "signed_headers"]

SECRET = "sheet-secret-5d2a"


def event(
    request_id: str, new: str, *, by: str = "", column: str = "Status", **more: Any
) -> dict[str, Any]:
    """One edit event; a fresh id unless one is given."""
    values: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "request_id": request_id,
        "column": column,
        "old": "",
        "new": new,
        "by": by,
        "at": "2026-11-10T11:59:58.000Z",
    }
    values.update(more)
    return values


def batch(events: Sequence[dict[str, Any]], sent_at: datetime, spreadsheet_id: str = "") -> bytes:
    """The body bytes, exactly as they will be sent (and signed)."""
    body = {
        "sent_at": sent_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "spreadsheet_id": spreadsheet_id,
        "events": list(events),
    }
    return json.dumps(body).encode()


def signed_headers(body: bytes, t: int, secret: str = SECRET) -> dict[str, str]:
    """``X-Sheetqueue-Signature: t=<t>,v1=<hex HMAC-SHA256 of "<t>." + body>``."""
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Sheetqueue-Signature": f"t={t},v1={digest}"}
