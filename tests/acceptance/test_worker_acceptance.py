"""Acceptance: the worker through the CLI, with a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sheetqueue.bot_actions.record import parse_new_request, record_request
from sheetqueue.sheets.sqlite_store import SqliteStore
from sheetqueue.worker import notified
from tests.cli_runner import SheetqueueCli
from tests.factories import make_order_record, orders_in_every_state
from tests.smtp_server import SmtpServer
from tests.worker_kit import record_types_in_turn


def _record_all(queue: Path, count: int) -> None:
    store = SqliteStore(queue)
    record_types_in_turn(store, count, datetime.now(UTC), conversation="conv-")
    store.close()


def _told(server: SmtpServer) -> Counter[tuple[str, str]]:
    """(request, Message-ID) pairs received, counted."""
    return Counter(
        (str(m.message["X-Sheetqueue-Request"]), str(m.message["Message-ID"]))
        for m in server.messages
    )


def test_hundred_requests_team_decisions_and_four_passes(tmp_path: Path) -> None:
    """Every shopper gets exactly the expected messages, once; the sheet's cells match."""
    import json

    (tmp_path / "orders.json").write_text(json.dumps(orders_in_every_state(100, datetime.now(UTC))))
    with SmtpServer() as server:
        cli = SheetqueueCli(
            tmp_path, SHEETQUEUE_NOTIFY=server.url(), SHEETQUEUE_MAIL_FROM="help@teeshop.example"
        )
        assert cli("import-orders", "orders.json").code == 0
        _record_all(tmp_path / "queue.db", 100)
        first = cli("tick", "--json")
        assert first.code == 0, first.stderr
        assert first.json()["checked"] == 100
        rows = cli("list", "--json").json()
        by_status = Counter(row["status"] for row in rows)
        assert by_status["Ineligible"] and by_status["Eligible"] and by_status["Needs Review"]
        waiting = [r["request_id"] for r in rows if r["status"] in ("Eligible", "Needs Review")]
        done, rejected = waiting[:5], waiting[5:10]
        for request_id in done:
            assert cli("set-status", request_id, "Done").code == 0
        for request_id in rejected:
            assert cli("set-status", request_id, "Rejected", "--message", "Sorry!").code == 0
        for _ in range(3):
            assert cli("tick").code == 0
        told = _told(server)
        final = {row["request_id"]: row for row in cli("list", "--json").json()}

    assert set(told.values()) == {1}, "a message went twice"
    expected: Counter[tuple[str, str]] = Counter()
    for request_id, row in final.items():
        for status in ("Ineligible", "Done", "Rejected"):
            if row["status"] == status:
                expected[(request_id, status)] += 1
    got = Counter(
        (request_id, mid.split("-")[-1].split("@")[0].capitalize()) for request_id, mid in told
    )
    assert got == expected
    for request_id, row in final.items():
        entries = notified.parse(row["notified"]).entries
        told_statuses = [e.status for e in entries if e.kind == "told"]
        assert told_statuses == [s for (r, s) in expected if r == request_id]
    assert sum(1 for r in final.values() if r["status"] == "Done") == 5
    assert sum(1 for r in final.values() if r["status"] == "Rejected") == 5


def test_pass_sigkilled_mid_send_resends_nothing_and_marks_the_message_maybe(
    tmp_path: Path,
) -> None:
    """SIGKILL after the SMTP server took message 3: it is "email maybe", never resent."""
    import json

    orders = [
        make_order_record(
            order_id=f"ORD-{n:04d}",
            email=f"s{n}@example.com",
            status="shipped",
            shipped_at=datetime.now(UTC).isoformat(),
        )
        for n in range(6)
    ]
    (tmp_path / "orders.json").write_text(json.dumps(orders))
    with SmtpServer() as server:
        cli = SheetqueueCli(tmp_path, SHEETQUEUE_NOTIFY=server.url())
        assert cli("import-orders", "orders.json").code == 0
        store = SqliteStore(tmp_path / "queue.db")
        for n in range(6):
            record_request(
                store,
                parse_new_request(
                    {
                        "type": "cancellation",
                        "order_id": f"ORD-{n:04d}",
                        "email": f"s{n}@example.com",
                    }
                ),
                datetime.now(UTC),
            )
        store.close()
        crashed = subprocess.run(
            [sys.executable, "-m", "tests.crash_pass", "send", "3"],
            env={**cli.env, "SHEETQUEUE_NOTIFY_CONCURRENCY": "1"},
            cwd=Path(__file__).parents[2],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert crashed.returncode == -signal.SIGKILL, crashed.stderr
        assert len(server.messages) == 3
        in_flight = str(server.messages[2].message["X-Sheetqueue-Request"])
        assert cli("tick").code == 0
        assert cli("tick").code == 0
        told = Counter(str(m.message["Message-ID"]) for m in server.messages)
        listed = cli("list", "--json")
    assert len(told) == 6, "every shopper told, the claimed-but-unsent three included"
    assert set(told.values()) == {1}, "nothing sent twice"
    cells = {row["request_id"]: notified.parse(row["notified"]) for row in listed.json()}
    channels = {
        request_id: [(e.carried, e.maybe) for e in cell.entries if e.kind == "told"]
        for request_id, cell in cells.items()
    }
    assert channels.pop(in_flight) == [((), ("email",))]
    assert [r["request_id"] for r in listed.json() if "email maybe" in r["notified"]] == [in_flight]
    assert all(told_ == [(("email",), ())] for told_ in channels.values()), channels
