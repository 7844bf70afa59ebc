"""Acceptance: sheetqueue demo and sheetqueue check, as a user runs them."""

from __future__ import annotations

from tests.cli_runner import SheetqueueCli
from tests.smtp_server import free_port

TYPES = ("cancellation", "refund", "return", "exchange", "address_change", "unsubscribe", "support")


def test_demo_runs_the_whole_loop_offline(cli: SheetqueueCli) -> None:
    """One request per type, a pass, the queue, and the messages the shoppers got."""
    result = cli("demo", timeout=120)
    assert result.code == 0, result.stderr
    out = result.stdout
    for kind in TYPES:
        assert f"│ {kind}" in out
    assert "3. Worker pass: {'checked': 7, 'changed': 7" in out
    assert "Ineligible" in out and "Eligible" in out and "Needs Review" in out
    assert "6. Messages to shoppers (2)" in out
    messages = list((cli.workdir / "sheetqueue-demo" / "outbox" / "new").iterdir())
    assert len(messages) == 2


def test_demo_starts_fresh_every_time(cli: SheetqueueCli) -> None:
    """Running the demo twice gives the same seven requests, not fourteen."""
    assert cli("demo", timeout=120).code == 0
    assert cli("demo", timeout=120).code == 0
    listed = cli(
        "list", "--json", SHEETQUEUE_LOCAL_PATH=str(cli.workdir / "sheetqueue-demo" / "queue.db")
    )
    assert len(listed.json()) == 7


def test_check_passes_on_the_embedded_default(cli: SheetqueueCli) -> None:
    """With the defaults, store, order source and maildir are all fine: exit 0."""
    result = cli("check")
    assert result.code == 0, result.stdout + result.stderr
    assert "ok    store (local): 0 requests" in result.stdout
    assert "ok    notifier maildir:" in result.stdout


def test_check_fails_when_a_notifier_cannot_be_reached(cli: SheetqueueCli) -> None:
    """An SMTP server nobody listens on makes check exit 1, naming it."""
    result = cli("check", SHEETQUEUE_NOTIFY=f"smtp://127.0.0.1:{free_port()}")
    assert result.code == 1
    assert "fail  notifier smtp://127.0.0.1:" in result.stdout


def test_check_fails_on_a_missing_order_file(cli: SheetqueueCli) -> None:
    """file: orders that do not exist are reported."""
    result = cli("check", SHEETQUEUE_ORDERS="file:nowhere.json")
    assert result.code == 1
    assert "fail  order source (file:nowhere.json)" in result.stdout


def test_cli_bad_configuration_exits_2_without_traceback(cli: SheetqueueCli) -> None:
    """The command line prints one line naming the setting and exits 2."""
    result = cli("list", SHEETQUEUE_INTERVAL_SECONDS="0")
    assert result.code == 2
    assert result.stderr.strip().splitlines() == [
        "error: SHEETQUEUE_INTERVAL_SECONDS: Input should be greater than or equal to 1"
    ]
    assert "Traceback" not in result.stderr
