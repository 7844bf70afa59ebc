"""Acceptance: the store's self-service links in the bot's answers and the shopper's email."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_runner import CliResult, SheetqueueCli
from tests.factories import make_order_record
from tests.smtp_server import SmtpServer

PORTAL = "https://shop.example/account/address"
HELP = "https://shop.example/help"


def _cli_on_a_shipped_order(tmp_path: Path, smtp: SmtpServer) -> SheetqueueCli:
    """The CLI with one shipped order (ORD-1001) on file, mailing through ``smtp``."""
    shipped = make_order_record(status="shipped", shipped_at="2026-11-03")
    (tmp_path / "orders.json").write_text(json.dumps([shipped]))
    return SheetqueueCli(
        tmp_path,
        SHEETQUEUE_ORDERS=f"file:{tmp_path / 'orders.json'}",
        SHEETQUEUE_NOTIFY=smtp.url(),
    )


def _ask_address_change(cli: SheetqueueCli) -> CliResult:
    """``record`` an address change for ORD-1001, answered as JSON."""
    return cli(
        "record", "--type", "address_change", "--order", "ORD-1001",
        "--email", "ana@example.com", "--details", '{"new_address": "9 Elm Rd"}', "--json",
    )  # fmt: skip


def test_an_address_change_answer_and_email_point_to_the_portal(tmp_path: Path) -> None:
    """With [links] set, record's answer and the Ineligible email both carry the portal link."""
    (tmp_path / "sheetqueue.toml").write_text(
        f'[links]\naddress_change = "{PORTAL}"\ndefault = "{HELP}"\n'
    )
    with SmtpServer() as smtp:
        cli = _cli_on_a_shipped_order(tmp_path, smtp)
        recorded = _ask_address_change(cli)
        support = cli(
            "record", "--type", "support", "--order", "ORD-1001", "--email", "ana@example.com",
            "--json",
        )  # fmt: skip
        assert cli("tick").code == 0
        mails = [m for m in smtp.messages if "ineligible" in str(m.message["Message-ID"])]

    assert recorded.code == 0, recorded.stderr
    assert recorded.json()["link"] == PORTAL
    assert f"update the address yourself in our portal: {PORTAL}" in recorded.json()["message"]
    assert support.json()["link"] == HELP
    [mail] = mails
    assert f"Help and self-service: {PORTAL}" in mail.body()


def test_without_links_no_answer_or_email_mentions_one(tmp_path: Path) -> None:
    """No [links]: the answer has no link key and the email no help line."""
    with SmtpServer() as smtp:
        cli = _cli_on_a_shipped_order(tmp_path, smtp)
        recorded = _ask_address_change(cli)
        assert cli("tick").code == 0
        [mail] = smtp.messages

    assert "link" not in recorded.json()
    assert "Help and self-service" not in mail.body() and "http" not in mail.body()


def test_a_link_that_is_not_a_url_is_bad_configuration(tmp_path: Path) -> None:
    """SHEETQUEUE_LINKS__RETURN=shop.example stops the CLI with exit 2 and one line."""
    result = SheetqueueCli(tmp_path, SHEETQUEUE_LINKS__RETURN="shop.example")("list")
    assert result.code == 2
    assert "SHEETQUEUE_LINKS: return: must be an http" in result.stderr
    assert "Traceback" not in result.stderr
