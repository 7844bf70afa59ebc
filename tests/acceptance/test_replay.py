"""Acceptance: ``sheetqueue replay`` shows what another policy would decide, and writes nothing."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sheetqueue.sheets.model import Request, new_request_id
from sheetqueue.sheets.sqlite_store import SqliteStore
from sheetqueue.sheets.times import format_time
from tests.cli_runner import SheetqueueCli
from tests.factories import make_order_record

NOW = datetime.now(UTC)


def _order(order_id: str, delivered_days_ago: int) -> dict[str, Any]:
    delivered = format_time(NOW - timedelta(days=delivered_days_ago))
    return make_order_record(order_id=order_id, status="delivered", delivered_at=delivered)


def _queue(tmp_path: Path) -> SheetqueueCli:
    """Returns asked 10, 40 and 70 days after delivery, one asked 20 days ago, all checked."""
    orders = [_order("ORD-10", 10), _order("ORD-40", 40), _order("ORD-70", 70)]
    orders.append(_order("ORD-OLD", 60))
    (tmp_path / "orders.json").write_text(json.dumps(orders))
    cli = SheetqueueCli(tmp_path, SHEETQUEUE_ORDERS=f"file:{tmp_path / 'orders.json'}")
    for order_id in ("ORD-10", "ORD-40", "ORD-70"):
        args = ("record", "--type", "return", "--order", order_id, "--email", "ana@example.com")
        assert cli(*args).code == 0
    store = SqliteStore(tmp_path / "queue.db")
    old = Request(
        request_id=new_request_id(),
        timestamp=format_time(NOW - timedelta(days=20)),
        type="return",
        status="Pending",
        order_id="ORD-OLD",
        email="ana@example.com",
    )
    store.add_requests([old])
    store.close()
    assert cli("tick").code == 0
    return cli


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_replay_counts_the_changes_and_lists_the_rows_that_flip(tmp_path: Path) -> None:
    """A 45-day window flips the two returns asked on day 40 to eligible; the file is untouched."""
    cli = _queue(tmp_path)
    (tmp_path / "window45.toml").write_text("[policy]\nreturn_window_days = 45\n")
    before = _digest(tmp_path / "queue.db")
    result = cli("replay", "--policy", "window45.toml", "--json")
    human = cli("replay", "--policy", "window45.toml")
    after = _digest(tmp_path / "queue.db")

    assert result.code == 0, result.stderr
    report = result.json()
    assert (report["requests"], report["unchanged"], report["changed"]) == (4, 2, 2)
    assert report["changes"] == [
        {"from": "review:lateReturnReview", "to": "eligible:withinReturnWindow", "count": 2}
    ]
    assert {(row["order_id"], row["status"]) for row in report["rows"]} == {
        ("ORD-40", "Needs Review"),
        ("ORD-OLD", "Needs Review"),
    }
    assert all("45-day window" in row["note"] for row in report["rows"])
    assert human.code == 0 and "2 would change" in human.stdout and "ORD-40" in human.stdout
    assert before == after


def test_replay_since_keeps_to_recent_requests(tmp_path: Path) -> None:
    """--since 7 leaves out the request asked 20 days ago."""
    cli = _queue(tmp_path)
    (tmp_path / "strict.toml").write_text("[policy]\nlate_return_review = false\n")
    every = cli("replay", "--policy", "strict.toml", "--json").json()
    recent = cli("replay", "--policy", "strict.toml", "--since", "7", "--json").json()

    assert every["requests"] == 4 and recent["requests"] == 3
    assert {row["order_id"] for row in every["rows"]} == {"ORD-40", "ORD-OLD"}
    assert {row["order_id"] for row in recent["rows"]} == {"ORD-40"}


def test_replay_with_a_bad_policy_file_is_bad_input(tmp_path: Path) -> None:
    """A missing file or an out-of-range value: exit 2, one line, no traceback."""
    cli = SheetqueueCli(tmp_path)
    (tmp_path / "bad.toml").write_text("[policy]\nreturn_window_days = -3\n")
    missing = cli("replay", "--policy", "nope.toml")
    bad = cli("replay", "--policy", "bad.toml", "--json")

    assert missing.code == 2 and "no file 'nope.toml'" in missing.stderr
    assert bad.code == 2 and "return_window_days" in bad.json()["error"]
    assert "Traceback" not in missing.stderr + bad.stderr
