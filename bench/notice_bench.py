"""Notices in their own process: rendering and recording them, then sending 1,000 emails.

``python -m bench.notice_bench [N]`` prints one JSON line:

- ``render_record_us``: CPU microseconds per notice to render it from the packaged
  templates and record it in the ledger as a pass does (staged before the
  sheet write, confirmed after it: one transaction for all of them each);
- ``send_seconds``: the wall time of one send step carrying N owed emails
  (1,000 by default) to a real SMTP server on 127.0.0.1 (aiosmtpd, the one
  the tests use), with the default concurrency; ``received`` is how many the
  server got and ``connections`` how many SMTP sessions it saw.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.workload import NOW
from sheetqueue.config.clock import utc_now
from sheetqueue.config.loading import load_settings
from sheetqueue.config.logs import configure_logging
from sheetqueue.sheets.model import RequestType, Status
from sheetqueue.worker.ledger import Ledger
from sheetqueue.worker.metrics import Metrics
from sheetqueue.worker.notify.factory import notifiers_from_settings
from sheetqueue.worker.notify.message import Notice, OutgoingMessage
from sheetqueue.worker.notify.templates import Templates, build_message
from sheetqueue.worker.sending import send_due
from tests.smtp_server import SmtpServer

__all__ = ["run"]


def _notices(count: int) -> list[Notice]:
    kinds = list(RequestType)
    return [
        Notice(
            request_id=f"REQ-NOTICE{n:010d}",
            request_type=kinds[n % len(kinds)],
            status=Status.DONE,
            order_id=f"ORD-{n:06d}",
            email=f"shopper{n}@example.com",
            store_name="Bench Store",
        )
        for n in range(count)
    ]


def _render_and_record(folder: Path, count: int) -> float:
    """Microseconds per notice: render, stage, confirm, as a pass does."""
    settings = load_settings()
    templates = Templates(settings.templates_dir)
    ledger = Ledger(folder / "render.db")
    notices = _notices(count)
    start = time.process_time()
    messages = [
        build_message(n, mail_from=settings.mail_from, templates=templates, policy=settings.policy)
        for n in notices
    ]
    ledger.stage(messages, NOW)
    ledger.settle([(m.request_id, m.status.value) for m in messages], now=NOW, drop=False)
    ledger.drop_staged()
    spent = time.process_time() - start
    ledger.close()
    return spent / count * 1e6


def _owed(folder: Path, count: int) -> tuple[Ledger, list[OutgoingMessage]]:
    ledger = Ledger(folder / "send.db")
    templates = Templates()
    messages = [build_message(n, templates=templates) for n in _notices(count)]
    ledger.settle([], messages, now=NOW, drop=False)
    return ledger, messages


def run(count: int) -> dict[str, Any]:
    configure_logging("ERROR")
    result: dict[str, Any] = {"emails": count}
    with tempfile.TemporaryDirectory() as tmp, SmtpServer() as server:
        folder = Path(tmp)
        os.environ["SHEETQUEUE_STATE_PATH"] = str(folder / "state.db")
        os.environ["SHEETQUEUE_NOTIFY"] = server.url()
        result["render_record_us"] = round(_render_and_record(folder, 2_000), 1)
        settings = load_settings()
        notifiers = notifiers_from_settings(settings, clock=utc_now)
        ledger, _ = _owed(folder, count)
        start = time.perf_counter()
        sent = send_due(ledger, notifiers, settings, NOW, Metrics())
        result["send_seconds"] = round(time.perf_counter() - start, 2)
        result["sent"] = sent.notified
        result["failed"] = sent.failed
        result["received"] = len(server.messages)
        result["connections"] = server.sessions
        result["concurrency"] = settings.notify_concurrency
        ledger.close()
    return result


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000)))
