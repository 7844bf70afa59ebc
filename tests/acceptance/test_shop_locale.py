"""SHEETQUEUE_LOCALE: how the shop writes dates in order files, read through the real CLI."""

from __future__ import annotations

from pathlib import Path

from tests.cli_runner import SheetqueueCli

EMAIL = "ana@example.com"
HEADER = "order_id,email,status,order_date,delivered_at\n"


def _file(cli: SheetqueueCli, *lines: str) -> Path:
    target = cli.workdir / "orders.csv"
    target.write_text(HEADER + "".join(f"{line}\n" for line in lines))
    return target


def _delivered(cli: SheetqueueCli, order: str) -> str:
    found = cli("lookup", "--order", order, "--email", EMAIL, "--json")
    assert found.code == 0, found.stderr
    return str(found.json()["order"]["delivered_on"])


def test_a_day_first_csv_reads_day_first_under_en_gb(cli: SheetqueueCli) -> None:
    """With SHEETQUEUE_LOCALE=en_GB, 03/04/2026 in an imported CSV is 3 April; ISO still reads."""
    orders = _file(
        cli,
        f"ORD-1,{EMAIL},delivered,01/04/2026,03/04/2026",
        f"ORD-2,{EMAIL},delivered,2026-04-01,2026-04-22T10:00:00Z",
    )
    done = cli("import-orders", str(orders), SHEETQUEUE_LOCALE="en_GB")
    assert done.code == 0, done.stderr
    assert _delivered(cli, "ORD-1") == "2026-04-03"
    assert _delivered(cli, "ORD-2") == "2026-04-22"


def test_the_same_csv_reads_month_first_under_en_us(cli: SheetqueueCli) -> None:
    """The default en_US reads the same 03/04/2026 as 4 March."""
    orders = _file(cli, f"ORD-1,{EMAIL},delivered,01/03/2026,03/04/2026")
    assert cli("import-orders", str(orders), SHEETQUEUE_LOCALE="en_US").code == 0
    assert _delivered(cli, "ORD-1") == "2026-03-04"


def test_a_date_the_locale_does_not_settle_refuses_the_import_by_line(cli: SheetqueueCli) -> None:
    """A two-digit year on line 3 refuses the import, naming line, field and what was expected."""
    orders = _file(
        cli,
        f"ORD-1,{EMAIL},delivered,01/04/2026,03/04/2026",
        f"ORD-2,{EMAIL},delivered,01/04/2026,03/04/26",
    )
    refused = cli("import-orders", str(orders), SHEETQUEUE_LOCALE="en_GB")
    assert refused.code == 2
    assert "nothing imported, 1 cannot be read" in refused.stderr
    assert (
        "line 3: order ORD-2: delivered_at: '03/04/26' does not read as a date: the shop's "
        "locale (en_GB, day first) does not settle a two-digit year; expected DD/MM/YYYY or "
        "YYYY-MM-DD"
    ) in refused.stderr
    assert "Traceback" not in refused.stderr
    missing = cli("lookup", "--order", "ORD-1", "--email", EMAIL, "--json")
    assert missing.code != 0 and "couldn't find an order" in missing.json()["error"]


def test_a_day_first_date_under_en_us_says_it_is_not_month_first(cli: SheetqueueCli) -> None:
    """22/11/2026 under en_US is refused saying the locale reads month first, not 'either way'."""
    orders = _file(cli, f"ORD-1,{EMAIL},delivered,2026-11-01,22/11/2026")
    refused = cli("import-orders", str(orders), "--dry-run")
    assert refused.code == 2
    assert (
        "line 2: order ORD-1: delivered_at: '22/11/2026' does not read as a date in the shop's "
        "locale (en_US, month first); expected MM/DD/YYYY or YYYY-MM-DD"
    ) in refused.stdout + refused.stderr


def test_an_unknown_locale_setting_is_exit_2_naming_the_known_ones(cli: SheetqueueCli) -> None:
    """SHEETQUEUE_LOCALE=en_XX stops import-orders in one line listing the locales it knows."""
    orders = _file(cli, f"ORD-1,{EMAIL},delivered,2026-04-01,2026-04-03")
    refused = cli("import-orders", str(orders), SHEETQUEUE_LOCALE="en_XX")
    assert refused.code == 2
    assert refused.stderr.startswith("error: SHEETQUEUE_LOCALE: unknown locale 'en_XX'; use one of")
    assert "en_GB" in refused.stderr and "ja_JP" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
