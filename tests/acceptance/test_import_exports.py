"""import-orders with Shopify and WooCommerce exports: grouped lines, dry runs, all or nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.cli_runner import SheetqueueCli

DATA = Path(__file__).parent.parent / "data"


def _copy(cli: SheetqueueCli, name: str) -> Path:
    target = cli.workdir / name
    shutil.copy(DATA / name, target)
    return target


def test_a_shopify_export_loads_one_order_per_name_with_every_line_item(
    cli: SheetqueueCli,
) -> None:
    """Lines sharing a Name are one order; status, city and postal code from Shopify's columns."""
    export = _copy(cli, "shopify_orders.csv")
    assert cli("import-orders", str(export), "--json").json() == {"imported": 3}
    order = cli("lookup", "--order", "#1001", "--email", "ana@example.com", "--json").json()
    order = order["order"]
    assert order["status"] == "shipped"
    assert [item["qty"] for item in order["items"]] == [2, 1]
    assert (order["city"], order["postal_code"], order["currency"]) == ("Paris", "75001", "EUR")
    assert order["shipped_on"] == "2026-11-02"
    second = cli("lookup", "--order", "#1002", "--email", "ben@example.co.uk", "--json").json()
    assert (second["order"]["status"], second["order"]["postal_code"]) == ("processing", "SW1A 2AA")
    third = cli("lookup", "--order", "#1003", "--email", "cy@example.com", "--json").json()
    assert third["order"]["status"] == "refunded"


def test_a_woocommerce_export_loads_with_the_shops_status_table(cli: SheetqueueCli) -> None:
    """Rows per item are grouped by order_number; [orders.statuses] reads completed as delivered."""
    (cli.workdir / "sheetqueue.toml").write_text('[orders.statuses]\ncompleted = "delivered"\n')
    export = _copy(cli, "woocommerce_orders.csv")
    dry = cli("import-orders", str(export), "--dry-run", "--json")
    assert dry.code == 0
    assert dry.json() == {"would_import": 2, "orders": ["WC-501", "WC-502"], "problems": []}
    assert cli("import-orders", str(export)).stdout.strip() == "imported 2 orders"
    first = cli("lookup", "--order", "WC-501", "--email", "dana@example.de", "--json").json()
    assert [item["name"] for item in first["order"]["items"]] == ["Mug", "Poster, A2"]
    assert (first["order"]["city"], first["order"]["postal_code"]) == ("Berlin", "10115")
    done = cli("lookup", "--order", "WC-502", "--email", "eli@example.nl", "--json").json()
    assert (done["order"]["status"], done["order"]["postal_code"]) == ("delivered", "1012 LG")


def test_a_dry_run_names_every_bad_line_and_a_real_import_then_loads_nothing(
    cli: SheetqueueCli,
) -> None:
    """Bad lines are reported by line number and field; the import refuses the whole file."""
    good = _copy(cli, "woocommerce_orders.csv")
    assert cli("import-orders", str(good), "--json").json() == {"imported": 2}
    lines = good.read_text().splitlines()
    bad_status = lines[3].replace(",completed,", ",lost,")
    no_email = lines[3].replace("WC-502", "WC-503").replace("eli@example.nl", "")
    broken = cli.workdir / "broken.csv"
    broken.write_text("\n".join([*lines[:3], bad_status, no_email]) + "\n")
    dry = cli("import-orders", str(broken), "--dry-run")
    assert dry.code == 2
    assert dry.stdout.startswith("would import 1 orders: WC-501")
    assert "cannot import line 4: order WC-502: status: 'lost' is not a known" in dry.stderr
    assert "cannot import line 5: order WC-503: email: missing" in dry.stderr
    real = cli("import-orders", str(broken))
    assert real.code == 2 and "nothing imported, 2 cannot be read" in real.stderr
    kept = cli("lookup", "--order", "WC-502", "--email", "eli@example.nl", "--json")
    assert kept.code == 0 and kept.json()["order"]["status"] == "shipped"
