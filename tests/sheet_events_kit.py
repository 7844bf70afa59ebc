"""Sheet events for tests: batches in the wire format, signed as the Apps Script signs them."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from sheetqueue.sheets.testing.emulator import Emulator
from tests.cli_runner import SheetqueueCli
from tests.outbox_kit import gsheets_cli
from tests.smtp_server import SmtpServer

__all__ = [
    "SECRET",
    "answers_health",
    "batch",
    "done_mail",
    "event",
    "event_driven_cli",
    "signed_headers",
    "worker_passes",
]

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


_PASSES = re.compile(r"^sheetqueue_worker_passes_total (\S+)", re.MULTILINE)


def event_driven_cli(
    folder: Path,
    emulator: Emulator,
    book: str,
    smtp_url: str,
    *,
    interval: int,
    secret: str,
    token: str,
) -> SheetqueueCli:
    """``sheetqueue`` on ``book``: mail to ``smtp_url``, polls ``interval`` s apart, events on."""
    return gsheets_cli(
        folder,
        emulator,
        book,
        SHEETQUEUE_NOTIFY=smtp_url,
        SHEETQUEUE_MAIL_FROM="help@teeshop.example",
        SHEETQUEUE_INTERVAL_SECONDS=str(interval),
        SHEETQUEUE_SHEET_EVENTS_SECRET=secret,
        SHEETQUEUE_API_TOKEN=token,
    )


def worker_passes(base_url: str, token: str) -> int:
    """The finished passes ``/metrics`` at ``base_url`` counts (0 before the first)."""
    headers = {"Authorization": f"Bearer {token}"}
    text = httpx.get(f"{base_url}/metrics", headers=headers, timeout=5).text
    found = _PASSES.search(text)
    return int(float(found.group(1))) if found else 0


def answers_health(base_url: str) -> bool:
    """Whether ``GET /healthz`` at ``base_url`` answers 200 now."""
    try:
        return httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def done_mail(smtp: SmtpServer, request_id: str) -> bool:
    """Whether the shopper's Done email for ``request_id`` has reached ``smtp``."""
    with smtp.lock:
        return any(
            m.message["X-Sheetqueue-Request"] == request_id
            and "-done@" in str(m.message["Message-ID"])
            for m in smtp.messages
        )
