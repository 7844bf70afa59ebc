"""Many shops for every command: ``--shop NAME``, and ``serve`` with every shop's API.

Two local shops (``north`` and ``corner``) in one shops file; real
``sheetqueue`` subprocesses.
"""

from __future__ import annotations

import json
import signal
import socket
import time
from pathlib import Path

import pytest
import requests

from sheetqueue.sheets.sqlite_store import SqliteStore
from tests.cli_runner import SheetqueueCli, wait_until_serving
from tests.factories import make_order_record

SHOPS = ("north", "corner")


def two_shops(folder: Path) -> Path:
    """A shops file of two local shops, each with its own queue, orders and maildir."""
    lines: list[str] = []
    for shop in SHOPS:
        order = make_order_record(order_id=f"{shop.upper()}-1", email=f"a@{shop}.example")
        (folder / f"{shop}-orders.json").write_text(json.dumps([order]))
        lines += [
            "[[shop]]",
            f'name = "{shop}"',
            f'local_path = "{shop}.db"',
            f'orders = "file:{shop}-orders.json"',
            f'notify = "maildir:{shop}-mail"',
            f'store_name = "{shop.title()} Shop"',
            "",
        ]
    path = folder / "shops.toml"
    path.write_text("\n".join(lines))
    return path


@pytest.fixture
def cli(tmp_path: Path) -> SheetqueueCli:
    return SheetqueueCli(tmp_path, SHEETQUEUE_SHOPS=str(two_shops(tmp_path)))


def _ids(folder: Path, shop: str) -> list[str]:
    store = SqliteStore(folder / f"{shop}.db")
    try:
        return [stored.request.request_id for stored in store.read_requests()]
    finally:
        store.close()


def _record(cli: SheetqueueCli, shop: str) -> str:
    done = cli(
        "record",
        "--shop",
        shop,
        "--type",
        "cancellation",
        "--order",
        f"{shop.upper()}-1",
        "--email",
        f"a@{shop}.example",
        "--json",
    )
    assert done.code == 0, done.stderr
    request_id = done.json()["request_id"]
    assert isinstance(request_id, str)
    return request_id


def test_record_with_shop_lands_in_that_shops_queue_only(
    cli: SheetqueueCli, tmp_path: Path
) -> None:
    """`record --shop north` adds a row to north's queue and none to corner's."""
    request_id = _record(cli, "north")
    assert _ids(tmp_path, "north") == [request_id]
    assert _ids(tmp_path, "corner") == []
    assert not (tmp_path / "queue.db").exists()  # the base queue is not touched


def test_list_log_and_set_status_act_on_the_named_shop(cli: SheetqueueCli) -> None:
    """`list`, `set-status` and `log` with --shop read and write that shop alone."""
    north, corner = _record(cli, "north"), _record(cli, "corner")
    listed = cli("list", "--shop", "corner", "--json")
    assert listed.code == 0, listed.stderr
    assert [row["request_id"] for row in listed.json()] == [corner]
    assert cli("tick").code == 0  # the worker's moves go to each shop's own log
    north_log = cli("log", "--shop", "north", "--json").json()
    assert north_log
    assert {entry["request_id"] for entry in north_log} == {north}
    corner_log = cli("log", "--shop", "corner", "--json").json()
    assert {entry["request_id"] for entry in corner_log} == {corner}
    moved = cli("set-status", north, "Done", "--shop", "north", "--json")
    assert moved.code == 0, moved.stderr
    wrong = cli("set-status", north, "Done", "--shop", "corner")
    assert wrong.code != 0  # north's request is unknown in corner's queue


def test_lookup_uses_the_named_shops_orders(cli: SheetqueueCli) -> None:
    """`lookup --shop` finds the order in that shop's order data, not in another's."""
    found = cli("lookup", "--shop", "north", "--order", "NORTH-1", "--email", "a@north.example")
    assert found.code == 0, found.stderr
    missed = cli("lookup", "--shop", "corner", "--order", "NORTH-1", "--email", "a@north.example")
    assert missed.code != 0


@pytest.mark.parametrize(
    "command",
    [
        ("record", "--type", "cancellation", "--order", "NORTH-1", "--email", "a@north.example"),
        ("list",),
        ("summary",),
        ("check",),
        ("archive", "--closed-before", "30"),
    ],
)
def test_a_per_shop_command_without_shop_exits_2_naming_the_shops(
    cli: SheetqueueCli, command: tuple[str, ...]
) -> None:
    """With a shops file and no --shop, a per-shop command exits 2 listing the shops."""
    done = cli(*command)
    assert done.code == 2
    assert "--shop: required" in done.stderr
    assert "north, corner" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unknown_shop_exits_2_listing_the_known_ones(cli: SheetqueueCli) -> None:
    """`--shop south` (not in the file) is refused with exit 2 and the shops there are."""
    done = cli("list", "--shop", "south")
    assert done.code == 2
    assert done.stderr.strip() == "error: --shop: unknown shop 'south'; choose one of north, corner"


def test_shop_without_a_shops_file_exits_2(tmp_path: Path) -> None:
    """Naming a shop in a one-shop deployment is a mistake, said in one line (exit 2)."""
    done = SheetqueueCli(tmp_path)("list", "--shop", "north")
    assert done.code == 2
    assert "SHEETQUEUE_SHOPS is not set" in done.stderr


def test_serve_with_worker_serves_and_passes_every_shop(tmp_path: Path) -> None:
    """`serve --with-worker` with a shops file: a request to each shop's API is checked there."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    cli = SheetqueueCli(
        tmp_path,
        SHEETQUEUE_SHOPS=str(two_shops(tmp_path)),
        SHEETQUEUE_API_TOKEN="base-token",
        SHEETQUEUE_INTERVAL_SECONDS="1",
    )
    process = cli.popen("serve", "--port", str(port), "--with-worker")
    url = f"http://127.0.0.1:{port}"
    headers = {"Authorization": "Bearer base-token"}
    posted: dict[str, str] = {}
    try:
        deadline = time.monotonic() + 30  # serving, then the pass's outcome, within it
        wait_until_serving(url, process, 30)
        for shop in SHOPS:
            body = {"type": "cancellation", "order_id": f"{shop.upper()}-1"}
            body["email"] = f"a@{shop}.example"
            answer = requests.post(
                f"{url}/shops/{shop}/v1/requests", json=body, headers=headers, timeout=5
            )
            assert answer.status_code == 201, answer.text
            posted[shop] = answer.json()["request_id"]
        statuses = {shop: "Pending" for shop in SHOPS}
        while "Pending" in statuses.values() and time.monotonic() < deadline:
            time.sleep(0.2)
            for shop in SHOPS:
                answer = requests.get(
                    f"{url}/shops/{shop}/v1/requests/{posted[shop]}",
                    params={"email": f"a@{shop}.example"},
                    headers=headers,
                    timeout=5,
                )
                statuses[shop] = answer.json()["status"]
        assert statuses == {"north": "Eligible", "corner": "Eligible"}
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    for shop in SHOPS:
        assert _ids(tmp_path, shop) == [posted[shop]]


def test_serve_on_a_public_host_needs_every_shops_token(tmp_path: Path) -> None:
    """With a shops file and no token for a shop, --host 0.0.0.0 exits 2 naming that shop."""
    cli = SheetqueueCli(tmp_path, SHEETQUEUE_SHOPS=str(two_shops(tmp_path)))
    done = cli("serve", "--host", "0.0.0.0", timeout=30)  # noqa: S104 (refused, never bound)
    assert done.code == 2
    assert "shop 'north' has none" in done.stderr
    assert "Traceback" not in done.stderr


def test_apps_script_for_a_shop_posts_under_its_prefix(cli: SheetqueueCli) -> None:
    """`apps-script --shop north` fills in the address serve answers north's sheet events at."""
    done = cli(
        "apps-script",
        "--shop",
        "north",
        SHEETQUEUE_PUBLIC_URL="https://queue.example.com",
        SHEETQUEUE_SHEET_EVENTS_SECRET="s" * 32,
    )
    assert done.code == 0, done.stderr
    assert 'var SHEETQUEUE_URL = "https://queue.example.com/shops/north";' in done.stdout
