"""Acceptance: an approved return brings the shopper its label and deadline, by SMTP, once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sheetqueue.sheets.model import CANONICAL_HEADER
from tests.cli_runner import SheetqueueCli
from tests.factories import make_order_record
from tests.http_server_kit import served_in_thread
from tests.smtp_server import SmtpServer
from tests.store_backends import shared_emulator, store_on


class _LabelService:
    """A shipping provider's label endpoint on 127.0.0.1: fails ``failures`` times first."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.calls: list[tuple[dict[str, Any], str]] = []

    def answer(self, body: dict[str, Any], key: str) -> tuple[int, dict[str, Any]]:
        self.calls.append((body, key))
        if self.failures > 0:
            self.failures -= 1
            return 503, {"error": "busy"}
        return 200, {
            "labelUrl": f"https://labels.example/{body['orderId']}.pdf",
            "trackingNumber": "1ZRETURN0001",
            "carrier": "UPS",
            "expiresAt": "2026-12-31",
        }


@contextmanager
def _serving(service: _LabelService) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length))
            code, answer = service.answer(body, self.headers.get("Idempotency-Key", ""))
            raw = json.dumps(answer).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: Any) -> None:
            return

    with served_in_thread(ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as url:
        yield f"{url}/labels"


def _delivered_order(tmp_path: Path) -> None:
    delivered = datetime.now(UTC) - timedelta(days=3)
    order = make_order_record(status="delivered", delivered_at=delivered.isoformat())
    (tmp_path / "orders.json").write_text(json.dumps([order]))


def _approved_return(cli: SheetqueueCli) -> str:
    assert cli("import-orders", "orders.json").code == 0
    recorded = cli(
        "record", "--type", "return", "--order", "ORD-1001", "--email", "ana@example.com", "--json"
    )
    assert recorded.code == 0, recorded.stderr
    request_id: str = recorded.json()["request_id"]
    assert cli("tick").code == 0
    assert cli("set-status", request_id, "Approved").code == 0
    return request_id


def test_approved_return_emails_the_label_and_deadline_once(tmp_path: Path) -> None:
    """Approved -> one email with the label link, carrier, tracking and ship-back date."""
    _delivered_order(tmp_path)
    service = _LabelService()
    with SmtpServer() as smtp, _serving(service) as url:
        cli = SheetqueueCli(tmp_path, SHEETQUEUE_NOTIFY=smtp.url(), SHEETQUEUE_LABEL_WEBHOOK=url)
        request_id = _approved_return(cli)
        for _ in range(3):
            assert cli("tick").code == 0
        approved = [m for m in smtp.messages if "approved" in str(m.message["Message-ID"])]
        row = cli("list", "--json").json()[0]

    assert len(approved) == 1
    body = approved[0].body()
    deadline = (datetime.now(UTC) + timedelta(days=7)).date().isoformat()
    assert "https://labels.example/ORD-1001.pdf" in body
    assert "1ZRETURN0001" in body and "UPS" in body
    assert f"by {deadline} (7 days" in body
    assert len(service.calls) == 1
    assert service.calls[0][1] == f"{request_id}-label"
    assert "return label UPS 1ZRETURN0001 sent" in row["worker_note"]


def test_a_failing_label_webhook_holds_the_notice_and_retries(tmp_path: Path) -> None:
    """A 503 from the label service sends nothing, says why, and the next pass delivers."""
    _delivered_order(tmp_path)
    service = _LabelService(failures=1)
    with SmtpServer() as smtp, _serving(service) as url:
        cli = SheetqueueCli(tmp_path, SHEETQUEUE_NOTIFY=smtp.url(), SHEETQUEUE_LABEL_WEBHOOK=url)
        _approved_return(cli)
        failed = cli("tick", "--json")
        held = cli("list", "--json").json()[0]
        sent_before = [m for m in smtp.messages if "approved" in str(m.message["Message-ID"])]
        assert cli("tick").code == 0
        sent_after = [m for m in smtp.messages if "approved" in str(m.message["Message-ID"])]

    assert failed.json()["failed"] == 1
    assert "No return label yet: the label webhook answered HTTP 503" in held["worker_note"]
    assert sent_before == []
    assert len(sent_after) == 1
    assert "labels.example" in sent_after[0].body()


def test_without_a_label_source_nothing_promises_a_label(tmp_path: Path) -> None:
    """No label source: the eligible answer and the approval email never mention a label."""
    _delivered_order(tmp_path)
    with SmtpServer() as smtp:
        cli = SheetqueueCli(tmp_path, SHEETQUEUE_NOTIFY=smtp.url())
        _approved_return(cli)
        answer = cli(
            "eligibility", "--type", "return", "--order", "ORD-1001",
            "--email", "ana@example.com", "--json",
        )  # fmt: skip
        assert cli("tick").code == 0
        approved = [m for m in smtp.messages if "approved" in str(m.message["Message-ID"])]

    assert answer.json()["eligible"] is True
    assert "label" not in answer.json()["message"].lower()
    assert len(approved) == 1
    assert "label" not in approved[0].body().lower()
    assert "where to send them" in approved[0].body()


def test_a_label_webhook_that_is_not_a_url_is_bad_configuration(tmp_path: Path) -> None:
    """SHEETQUEUE_LABEL_WEBHOOK=ftp://... stops the CLI with exit 2 and one line."""
    result = SheetqueueCli(tmp_path, SHEETQUEUE_LABEL_WEBHOOK="ftp://x")("tick")
    assert result.code == 2
    assert "label_webhook" in result.stderr.lower() and "Traceback" not in result.stderr


def test_the_label_column_holds_the_approval_until_the_team_pastes_the_link(
    tmp_path: Path,
) -> None:
    """LABEL_SOURCE=column: no email while Label is empty; one after set-status --label."""
    _delivered_order(tmp_path)
    link = "https://labels.example/by-hand/ORD-1001.pdf"
    with SmtpServer() as smtp:
        cli = SheetqueueCli(
            tmp_path, SHEETQUEUE_NOTIFY=smtp.url(), SHEETQUEUE_LABEL_SOURCE="column"
        )
        request_id = _approved_return(cli)
        waited = cli("tick", "--json")
        before = [m for m in smtp.messages if "approved" in str(m.message["Message-ID"])]
        held = cli("list", "--json").json()[0]
        labelled = cli("set-status", request_id, "Approved", "--label", f"{link} 1Z42 DHL")
        for _ in range(2):
            assert cli("tick").code == 0
        after = [m for m in smtp.messages if "approved" in str(m.message["Message-ID"])]

    assert waited.code == 0 and waited.json()["failed"] == 0
    assert before == []
    assert "waiting for a label in the Label column" in held["worker_note"]
    assert labelled.code == 0, labelled.stderr
    assert len(after) == 1
    assert link in after[0].body() and "1Z42" in after[0].body()


def test_two_label_sources_are_bad_configuration(tmp_path: Path) -> None:
    """SHEETQUEUE_LABEL_SOURCE=column with a label webhook too: exit 2 and one line."""
    result = SheetqueueCli(
        tmp_path, SHEETQUEUE_LABEL_SOURCE="column", SHEETQUEUE_LABEL_WEBHOOK="https://x.example"
    )("tick")
    assert result.code == 2
    assert "SHEETQUEUE_LABEL_SOURCE" in result.stderr and "Traceback" not in result.stderr


def test_set_status_label_without_the_column_source_is_refused(tmp_path: Path) -> None:
    """--label when the Label column is not the label source: exit 2, nothing written."""
    _delivered_order(tmp_path)
    cli = SheetqueueCli(tmp_path)
    request_id = _approved_return(cli)
    result = cli("set-status", request_id, "Approved", "--label", "https://labels.example/a")
    assert result.code == 2
    assert "SHEETQUEUE_LABEL_SOURCE=column" in result.stderr and "Traceback" not in result.stderr
    assert "label" not in cli("list", "--json").json()[0]


def test_check_says_when_the_sheet_has_no_label_column(tmp_path: Path) -> None:
    """``check --json`` with the column source: fails without a Label column, ok once added."""
    emulator = shared_emulator()
    book = emulator.create_spreadsheet(
        "Queue", {"Requests": [list(CANONICAL_HEADER)], "Orders": [["order_id", "email"]]}
    )
    cli = SheetqueueCli(
        tmp_path,
        SHEETQUEUE_BACKEND="gsheets",
        SHEETQUEUE_SPREADSHEET_ID=book,
        SHEETQUEUE_SHEETS_API_URL=str(emulator.url),
        SHEETQUEUE_LABEL_SOURCE="column",
    )

    def label_check() -> dict[str, Any]:
        checks = cli("check", "--json", timeout=60).json()["checks"]
        [found] = [c for c in checks if c["name"] == "label source (column)"]
        return dict(found)

    missing = label_check()
    store_on(emulator, book).api.update("'Requests'!T1", [["Label"]])
    present = label_check()

    assert missing["ok"] is False and "no column headed 'Label'" in missing["message"]
    assert present == {"name": "label source (column)", "ok": True, "message": "the Label column"}
