"""Acceptance: a request's language picks its email templates, and check catches bad templates."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.cli_runner import SheetqueueCli
from tests.factories import make_order_record
from tests.smtp_server import SmtpServer

SPANISH = "Subject: Pedido $order_id completado\n\nHola, tu solicitud $request_id está lista.\n"


def _setup(tmp_path: Path) -> None:
    delivered = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    orders = [
        make_order_record(order_id=f"ORD-{n}", status="delivered", delivered_at=delivered)
        for n in (1, 2)
    ]
    (tmp_path / "orders.json").write_text(json.dumps(orders))
    (tmp_path / "tpl" / "es").mkdir(parents=True)
    (tmp_path / "tpl" / "es" / "done.txt").write_text(SPANISH)


def test_a_spanish_request_gets_spanish_mail_and_an_unknown_language_falls_back(
    tmp_path: Path,
) -> None:
    """es -> es/done.txt; fr (no templates) -> the default English done.refund.txt."""
    _setup(tmp_path)
    with SmtpServer() as smtp:
        cli = SheetqueueCli(
            tmp_path,
            SHEETQUEUE_ORDERS=f"file:{tmp_path / 'orders.json'}",
            SHEETQUEUE_NOTIFY=smtp.url(),
            SHEETQUEUE_TEMPLATES_DIR=str(tmp_path / "tpl"),
        )
        ids = {}
        for order, language in (("ORD-1", "es"), ("ORD-2", "fr")):
            recorded = cli(
                "record", "--type", "refund", "--order", order, "--email", "ana@example.com",
                "--language", language, "--json",
            )  # fmt: skip
            assert recorded.code == 0, recorded.stderr
            ids[language] = recorded.json()["request_id"]
        assert cli("tick").code == 0
        for request_id in ids.values():
            assert cli("set-status", request_id, "Done").code == 0
        assert cli("tick").code == 0
        mail = {str(m.message["X-Sheetqueue-Request"]): m for m in smtp.messages}

    assert str(mail[ids["es"]].message["Subject"]) == "Pedido ORD-1 completado"
    assert f"Hola, tu solicitud {ids['es']} está lista." in mail[ids["es"]].body()
    assert "refund" in mail[ids["fr"]].body().lower() and "Hola" not in mail[ids["fr"]].body()


def test_a_malformed_language_is_bad_input(tmp_path: Path) -> None:
    """--language Spanish exits 2 naming the field; nothing is recorded."""
    cli = SheetqueueCli(tmp_path)
    result = cli(
        "record", "--type", "refund", "--order", "ORD-1", "--email", "a@b.example",
        "--language", "Spanish",
    )  # fmt: skip
    assert result.code == 2 and "language: use a language code" in result.stderr
    assert cli("list", "--json").json() == []


def test_check_fails_on_an_unknown_placeholder_and_a_shadowed_generic_file(
    tmp_path: Path,
) -> None:
    """Hola $nombre and a done.txt shadowed by done.refund.txt both fail check (exit 1)."""
    (tmp_path / "tpl" / "es").mkdir(parents=True)
    (tmp_path / "tpl" / "es" / "done.txt").write_text("Subject: Hola\n\nHola $nombre\n")
    (tmp_path / "tpl" / "done.txt").write_text("Subject: Done\n\nAll done, $order_ref.\n")
    cli = SheetqueueCli(tmp_path, SHEETQUEUE_TEMPLATES_DIR=str(tmp_path / "tpl"))
    failed = cli("check")
    (tmp_path / "tpl" / "es" / "done.txt").write_text("Subject: Hola\n\nHola, $order_ref\n")
    (tmp_path / "tpl" / "done.txt").unlink()
    fixed = cli("check")

    assert failed.code == 1
    assert "es/done.txt: unknown placeholder $nombre" in failed.stdout
    assert "done.txt is shadowed by built-in per-type files" in failed.stdout
    assert fixed.code == 0, fixed.stdout
    assert "ok    templates" in fixed.stdout
