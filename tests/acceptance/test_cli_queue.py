"""Acceptance: record, list and set-status through the real command line."""

from __future__ import annotations

import pytest

from tests.cli_runner import SheetqueueCli


def _record(cli: SheetqueueCli, *extra: str) -> str:
    result = cli(
        "record",
        "--type",
        "refund",
        "--order",
        "ORD-1001",
        "--email",
        "ana@example.com",
        "--json",
        *extra,
    )
    assert result.code == 0, result.stderr
    document = result.json()
    assert document["status"] == "Pending"
    return str(document["request_id"])


def test_record_then_list_as_json(cli: SheetqueueCli) -> None:
    """A recorded request is listed with the canonical snake_case keys."""
    request_id = _record(cli, "--reason", "too small", "--channel", "chat")
    listed = cli("list", "--json").json()
    assert [row["request_id"] for row in listed] == [request_id]
    row = listed[0]
    assert list(row) == [
        "request_id",
        "timestamp",
        "type",
        "status",
        "order_id",
        "email",
        "phone",
        "reason",
        "details",
        "conversation_id",
        "channel",
        "decision",
        "worker_note",
        "checked_at",
        "notified",
        "team_note",
        "shopper_message",
    ]
    assert (row["type"], row["reason"], row["channel"]) == ("refund", "too small", "chat")


@pytest.mark.parametrize(
    "reason", ['=HYPERLINK("http://x","y")', "00123", "+1 512 555", "@SUM(A1)"]
)
def test_shopper_text_is_listed_exactly_as_typed(cli: SheetqueueCli, reason: str) -> None:
    """Formulas and numbers in shopper text stay text."""
    _record(cli, "--reason", reason)
    assert cli("list", "--json").json()[0]["reason"] == reason


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--type", "refund", "--order", "ORD-1", "--email", "not-an-email"], "error: email:"),
        (["--type", "refnd", "--order", "ORD-1", "--email", "a@example.com"], "error: type:"),
        (["--type", "refund", "--order", "", "--email", "a@example.com"], "error: order_id:"),
        (
            [
                "--type",
                "refund",
                "--order",
                "ORD-1",
                "--email",
                "a@example.com",
                "--details",
                "{oops",
            ],
            "error: details:",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    cli: SheetqueueCli, args: list[str], message: str
) -> None:
    """Each bad input: exit 2, one line saying what is wrong, the queue unchanged."""
    _record(cli)
    before = cli("list", "--json").json()
    result = cli("record", *args)
    assert result.code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message)
    assert "Traceback" not in result.stderr
    assert cli("list", "--json").json() == before


def test_bad_input_under_json_gives_an_error_document(cli: SheetqueueCli) -> None:
    """--json callers get {"error": ...} on stdout as well as exit 2."""
    result = cli("record", "--type", "x", "--order", "O-1", "--email", "a@example.com", "--json")
    assert result.code == 2
    assert result.json()["error"].startswith("type: unknown type 'x'")


def test_set_status_as_the_team_does(cli: SheetqueueCli) -> None:
    """set-status changes Status and Team Note; list --status filters."""
    request_id = _record(cli)
    other = _record(cli, "--conversation", "c-2")
    done = cli("set-status", request_id, "done", "--note", "refunded in Shopify")
    assert done.code == 0, done.stderr
    assert done.stdout.strip() == f"{request_id}: Done"
    listed = cli("list", "--status", "Done", "--json").json()
    assert [(r["request_id"], r["team_note"]) for r in listed] == [
        (request_id, "refunded in Shopify")
    ]
    pending = cli("list", "--status", "pending", "--json").json()
    assert [r["request_id"] for r in pending] == [other]


def test_set_status_refuses_unknown_status_and_unknown_id(cli: SheetqueueCli) -> None:
    """A typo in the status is exit 2; an unknown ID is exit 1; nothing changes."""
    request_id = _record(cli)
    typo = cli("set-status", request_id, "Dnoe")
    assert typo.code == 2 and "unknown status 'Dnoe'" in typo.stderr
    missing = cli("set-status", "REQ-NOPE", "Done")
    assert missing.code == 1 and "no request with ID 'REQ-NOPE'" in missing.stderr
    assert cli("list", "--json").json()[0]["status"] == "Pending"


def test_set_status_refuses_worker_statuses_and_reopening(cli: SheetqueueCli) -> None:
    """set-status to a worker's status, or on a closed request, is exit 2 and writes nothing."""
    request_id = _record(cli)
    worker_word = cli("set-status", request_id, "Eligible")
    assert worker_word.code == 2
    assert worker_word.stderr.strip().splitlines() == [
        "error: Eligible is set by the worker, not by hand; "
        "the team sets one of Approved, In Progress, Done, Rejected"
    ]
    assert cli("set-status", request_id, "Rejected", "--note", "no").code == 0
    reopened = cli("set-status", request_id, "In Progress", "--note", "oops", "--json")
    assert reopened.code == 2
    assert "closed (Rejected)" in reopened.json()["error"]
    (row,) = cli("list", "--json").json()
    assert (row["status"], row["team_note"]) == ("Rejected", "no")


def test_import_orders_rejects_a_bad_file_and_keeps_the_old_orders(
    cli: SheetqueueCli,
) -> None:
    """A broken order file is exit 2 naming the order and field; the Orders tab is kept."""
    good = cli.workdir / "orders.json"
    good.write_text(
        '[{"order_id": "ORD-1", "email": "a@example.com", "status": "processing",'
        ' "order_date": "2026-11-01"}]'
    )
    assert cli("import-orders", str(good)).stdout.strip() == "imported 1 orders"
    bad = cli.workdir / "bad.json"
    bad.write_text(
        '[{"order_id": "ORD-2", "email": "b@example.com", "status": "lost",'
        ' "order_date": "2026-11-01"}]'
    )
    result = cli("import-orders", str(bad))
    assert result.code == 2
    assert result.stderr.startswith(f"error: {bad}: nothing imported, 1 cannot be read:")
    assert "entry 1: order ORD-2: status: 'lost' is not a known order status" in result.stderr
    csv_file = cli.workdir / "orders.csv"
    csv_file.write_text(
        "order_id,email,status,order_date,items\n"
        'ORD-3,c@example.com,delivered,2026-11-01,"[{""sku"": ""A"", ""qty"": 1}]"\n'
    )
    assert cli("import-orders", str(csv_file), "--json").json() == {"imported": 1}


def test_log_shows_the_team_and_worker_changes(cli: SheetqueueCli) -> None:
    """After a pass and a team decision, the log lists both moves, by whom."""
    orders = cli.workdir / "orders.json"
    orders.write_text(
        '[{"order_id": "ORD-1001", "email": "ana@example.com", "status": "delivered",'
        ' "order_date": "2026-11-01", "delivered_at": "2026-11-03"}]'
    )
    cli.env["SHEETQUEUE_ORDERS"] = f"file:{orders}"
    request_id = _record(cli)
    assert cli("tick").code == 0
    status = cli("list", "--json").json()[0]["status"]
    assert cli("set-status", request_id, "Done").code == 0
    assert cli("tick").code == 0
    entries = cli("log", "--request", request_id, "--json").json()
    assert [(e["from_status"], e["to_status"], e["by"]) for e in entries] == [
        ("Pending", status, "worker"),
        (status, "Done", "team"),
    ]
    assert "Log (2)" in cli("log", "--request", request_id).stdout


def test_log_table_is_readable_at_80_columns(cli: SheetqueueCli) -> None:
    """At COLUMNS=80 the log fits, no column is squeezed narrow and no Request ID is cut."""
    orders = cli.workdir / "orders.json"
    orders.write_text(
        '[{"order_id": "ORD-1001", "email": "ana@example.com", "status": "delivered",'
        ' "order_date": "2026-11-01", "delivered_at": "2026-11-03"}]'
    )
    cli.env["SHEETQUEUE_ORDERS"] = f"file:{orders}"
    ids = [_record(cli), _record(cli)]
    assert cli("tick").code == 0
    assert cli("set-status", ids[0], "Done").code == 0
    assert cli("tick").code == 0
    entries = cli("log", "--json").json()
    assert len(entries) >= 3
    shown = cli("log", COLUMNS="80")
    assert shown.code == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    header = next(line for line in lines if "Time / by" in line)
    widths = [len(cell) for cell in header.strip("┃│").split("┃" if "┃" in header else "│")]
    assert len(widths) == 3 and min(widths) >= 20, header
    for request_id in ids:
        assert any(request_id in line for line in lines), request_id
    for entry in entries:
        assert any(entry["time"] in line for line in lines)
    notes = [line.split("│")[3] for line in lines if line.count("│") == 4]
    assert " ".join(notes).split() == " ".join(e["note"] for e in entries).split()
