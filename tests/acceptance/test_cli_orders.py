"""`sheetqueue lookup` and `sheetqueue eligibility` run as a shopper's bot would, as subprocesses.

Each row of seed 004's testing checklist and of seed 002's refund variants is
one run of the real console script. The CLI reads the real clock, so the
order data is written relative to today.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.cli_runner import CliResult, SheetqueueCli

EMAIL = "ana@example.com"
CARD = "4111 1111 1111 1111"


def _ago(days: int) -> str:
    """``days`` whole days (and two hours) before now, in UTC."""
    moment = datetime.now(UTC) - timedelta(days=days, hours=2)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _order(order_id: str, status: str, delivered_days_ago: int | None = None, **extra: Any) -> Any:
    record: dict[str, Any] = {
        "order_id": order_id,
        "email": EMAIL,
        "status": status,
        "order_date": _ago(100 if delivered_days_ago is None else delivered_days_ago + 5),
        "items": [{"sku": "TEE-1", "name": "Classic Tee", "qty": 2, "price": 29.99}],
        "total": 59.98,
        "currency": "USD",
        "shipping_address": "123 Main St, Austin, TX 78701",
        "payment_method": f"Visa {CARD}",
        "customer": {"total_spent": 150.0, "order_count": 4},
    }
    if status in ("shipped", "delivered", "refunded"):
        record.update(
            carrier="UPS",
            tracking_number="1Z999AA10123456784",
            tracking_url="https://track.example/1Z999AA10123456784",
            shipped_at=_ago((delivered_days_ago or 0) + 3),
            estimated_delivery=_ago(-2)[:10],
        )
    if delivered_days_ago is not None:
        record["delivered_at"] = _ago(delivered_days_ago)
    record.update(extra)
    return record


ORDERS = [
    _order("ORD-PROC", "processing"),
    _order("ORD-SHIP", "shipped"),
    _order("ORD-D5", "delivered", 5),
    _order("ORD-D10", "delivered", 10),
    _order("ORD-D30", "delivered", 30),
    _order("ORD-D40", "delivered", 40),
    _order("ORD-D90", "delivered", 90),
    _order("ORD-VIP", "delivered", 30, customer={"total_spent": 5000.0, "order_count": 4}),
    _order("ORD-FIRST", "delivered", 30, customer={"total_spent": 40.0, "order_count": 1}),
    _order("ORD-REF", "refunded", 8, refunded_at=_ago(2)),
]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli_orders")
    (folder / "orders.json").write_text(json.dumps(ORDERS), encoding="utf-8")
    return folder


def sheetqueue(workdir: Path, *args: str, orders: str = "file") -> CliResult:
    where = f"file:{workdir / 'orders.json'}" if orders == "file" else orders
    return SheetqueueCli(workdir, SHEETQUEUE_ORDERS=where)(*args, timeout=30)


def lookup(workdir: Path, order: str, email: str = EMAIL, conversation: str = "") -> CliResult:
    extra = ["--conversation", conversation] if conversation else []
    return sheetqueue(workdir, "lookup", "--order", order, "--email", email, *extra, "--json")


# Seed 004: the order agent's testing checklist.


def test_successful_lookup(workdir: Path) -> None:
    """Valid order number and email (any case): status, items, tracking, city and zip, last 4."""
    run = lookup(workdir, "ORD-SHIP", " ANA@example.com ", "conv-ok")
    assert run.code == 0, run.stderr
    order = run.json()["order"]
    assert order["status"] == "shipped"
    assert order["items"] == [{"name": "Classic Tee", "qty": 2, "price": 29.99}]
    assert (order["city"], order["postal_code"]) == ("Austin", "78701")
    assert order["payment"] == "Visa ending in 1111"
    assert "shipping_address" not in order and "email" not in order


def test_failed_verification_locks_after_two_tries(workdir: Path) -> None:
    """A wrong email twice in one conversation locks it; the right email is then refused too."""
    first = lookup(workdir, "ORD-SHIP", "eve@example.com", "conv-lock")
    assert first.code == 1
    assert "check both" in first.json()["error"]
    second = lookup(workdir, "ORD-SHIP", "eve@example.com", "conv-lock")
    assert second.code == 1
    assert "confirmation email" in second.json()["error"]
    third = lookup(workdir, "ORD-SHIP", EMAIL, "conv-lock")
    assert third.code == 1
    assert "order" not in third.json()


def test_shipped_order_gives_tracking(workdir: Path) -> None:
    """A shipped order shows the carrier, tracking number and link, and offers the link."""
    order = lookup(workdir, "ORD-SHIP", conversation="conv-ship").json()["order"]
    assert order["carrier"] == "UPS"
    assert order["tracking_number"] == "1Z999AA10123456784"
    assert order["tracking_url"].startswith("https://track.example/")
    assert "tracking link" in order["status_message"]


def test_processing_order_has_not_shipped(workdir: Path) -> None:
    """A processing order says it hasn't shipped yet and shows no tracking."""
    order = lookup(workdir, "ORD-PROC", conversation="conv-proc").json()["order"]
    assert order["status"] == "processing"
    assert "hasn't shipped yet" in order["status_message"]
    assert "tracking_number" not in order and "tracking_url" not in order


def test_full_card_number_never_shown(workdir: Path) -> None:
    """Neither JSON nor the human table ever shows the card number; only the last four."""
    as_json = lookup(workdir, "ORD-D10", conversation="conv-card")
    human = sheetqueue(workdir, "lookup", "--order", "ORD-D10", "--email", EMAIL)
    for output in (as_json.stdout, human.stdout):
        assert CARD not in output and CARD.replace(" ", "") not in output
        assert "123 Main St" not in output
    assert "Visa ending in 1111" in human.stdout
    assert "Austin" in human.stdout


def eligibility(workdir: Path, kind: str, order: str, *extra: str) -> CliResult:
    return sheetqueue(
        workdir, "eligibility", "--type", kind, "--order", order, "--email", EMAIL, *extra, "--json"
    )


ROWS = [
    # seed 004 checklist
    ("cancel processing", "cancellation", "ORD-PROC", (), "eligible:notYetShipped", "full refund"),
    ("cancel shipped", "cancellation", "ORD-SHIP", (), "ineligible:alreadyShipped", "return"),
    ("eligible return", "return", "ORD-D10", (), "eligible:withinReturnWindow", "how to send"),
    ("late return", "return", "ORD-D40", (), "review:lateReturnReview", "manager"),
    ("too late", "return", "ORD-D90", (), "ineligible:outsideWindow", "exception"),
    ("damaged", "return", "ORD-D90", ("--damaged",), "review:damagedItem", "replacement"),
    ("address shipped", "address_change", "ORD-SHIP", (), "ineligible:alreadyShipped", "address"),
    # seed 002 refund variants
    ("not delivered", "refund", "ORD-SHIP", (), "ineligible:notDelivered", "on its way"),
    ("already refunded", "refund", "ORD-REF", (), "ineligible:alreadyRefunded", "already"),
    ("within 14 days", "refund", "ORD-D5", (), "eligible:within14Days", "full refund"),
    ("within 60 days", "refund", "ORD-D30", (), "review:within60Days", "store credit"),
    ("default deny", "refund", "ORD-D90", (), "ineligible:outsideWindow", "can't offer a refund"),
    ("vip", "refund", "ORD-VIP", (), "eligible:vipFullRefund", "loyal"),
    ("first order", "refund", "ORD-FIRST", (), "eligible:firstOrderFullRefund", "first order"),
    ("one item", "return", "ORD-D10", ("--sku", "tee-1"), "eligible:withinReturnWindow", "send"),
]


@pytest.mark.parametrize(
    ("kind", "order", "extra", "decision", "words"),
    [row[1:] for row in ROWS],
    ids=[row[0] for row in ROWS],
)
def test_eligibility_rows(
    workdir: Path, kind: str, order: str, extra: tuple[str, ...], decision: str, words: str
) -> None:
    """Each scenario gets its own decision and words for the shopper."""
    run = eligibility(workdir, kind, order, *extra)
    assert run.code == 0, run.stderr
    answer = run.json()
    assert answer == {
        "eligible": decision.startswith("eligible:"),
        "decision": decision,
        "message": answer["message"],
    }
    assert words in answer["message"]


def test_refund_for_unknown_order_is_not_found(workdir: Path) -> None:
    """Seed 002's "not found" variant: exit 1 and the generic error, same as a wrong email."""
    unknown = eligibility(workdir, "refund", "ORD-NOPE")
    wrong = sheetqueue(
        workdir,
        "eligibility",
        "--type",
        "refund",
        "--order",
        "ORD-D5",
        "--email",
        "x@y.com",
        "--json",
    )
    assert unknown.code == wrong.code == 1
    assert unknown.json() == wrong.json()
    assert "check both" in unknown.json()["error"]


def test_bad_input_exits_2(workdir: Path) -> None:
    """An unknown type or an empty email is bad input: exit 2 with the field named."""
    bad_type = eligibility(workdir, "teleport", "ORD-D5")
    assert bad_type.code == 2
    assert "type" in bad_type.json()["error"]
    empty = sheetqueue(workdir, "lookup", "--order", "ORD-D5", "--email", " ", "--json")
    assert empty.code == 2
    assert "--email" in empty.json()["error"]


def test_orders_imported_into_the_store(tmp_path: Path) -> None:
    """With the default tab:Orders source, orders loaded by import-orders are looked up."""
    (tmp_path / "orders.json").write_text(json.dumps(ORDERS[:2]), encoding="utf-8")
    imported = sheetqueue(tmp_path, "import-orders", str(tmp_path / "orders.json"))
    assert imported.code == 0, imported.stderr
    run = sheetqueue(
        tmp_path, "lookup", "--order", "ORD-SHIP", "--email", EMAIL, "--json", orders="tab:Orders"
    )
    assert run.code == 0, run.stderr
    assert run.json()["order"]["payment"] == "Visa ending in 1111"
