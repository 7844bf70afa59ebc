"""Many shops from one deployment: one ``sheetqueue tick`` passes every shop of the shops file.

Two shops on two spreadsheets of the Sheets emulator and one on a local file,
each with its own order data, maildir, store name and sender; real
``sheetqueue`` subprocesses.
"""

from __future__ import annotations

import email
import email.message
import email.policy
import json
import mailbox
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sheetqueue.sheets.model import CANONICAL_HEADER, Request
from sheetqueue.sheets.sqlite_store import SqliteStore
from tests.cli_runner import SheetqueueCli
from tests.factories import make_order_record
from tests.store_backends import shared_emulator

SHOPS = ("north", "south", "corner")


def _cells(shop: str, n: int) -> dict[str, str]:
    return {
        "request_id": f"REQ-{shop.upper()[:3]}{n:013d}",
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "type": "cancellation",
        "status": "Pending",
        "order_id": f"{shop.upper()}-{n}",
        "email": f"s{n}@{shop}.example",
        "conversation_id": f"{shop}-c{n}",
    }


def _sheet_row(shop: str, n: int) -> list[str]:
    cells = _cells(shop, n)
    return [cells.get(h.lower().replace(" ", "_"), "") for h in CANONICAL_HEADER]


def _orders(folder: Path, shop: str, count: int) -> None:
    """Shipped orders: each cancellation becomes Ineligible and the shopper is told."""
    shipped = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    records = [
        make_order_record(
            order_id=f"{shop.upper()}-{n}",
            email=f"s{n}@{shop}.example",
            status="shipped",
            shipped_at=shipped,
        )
        for n in range(count)
    ]
    (folder / f"{shop}-orders.json").write_text(json.dumps(records))


def _deployment(
    tmp_path: Path, rows: int, *, broken: str = ""
) -> tuple[SheetqueueCli, dict[str, str]]:
    """Three shops in one shops file; ``broken`` names a sheet shop whose header is wrecked."""
    emulator = shared_emulator()
    assert emulator.url is not None
    books: dict[str, str] = {}
    for shop in ("north", "south"):
        header = list(CANONICAL_HEADER)
        table = [header, *(_sheet_row(shop, n) for n in range(rows))]
        if shop == broken:
            table.insert(0, ["Our requests (do not edit)"])  # a title row above the header
        books[shop] = emulator.create_spreadsheet(shop, {"Requests": table})
    corner = SqliteStore(tmp_path / "corner.db")
    corner.add_requests([Request(**_cells("corner", n)) for n in range(rows)])
    corner.close()
    lines = ["concurrency = 2", ""]
    for shop in SHOPS:
        _orders(tmp_path, shop, rows)
        lines += ["[[shop]]", f'name = "{shop}"']
        if shop in books:
            lines.append(f'spreadsheet_id = "{books[shop]}"')
        else:
            lines.append('local_path = "corner.db"')
        lines += [
            f'orders = "file:{shop}-orders.json"',
            f'notify = "maildir:mail-{shop}"',
            f'store_name = "{shop.title()} Goods"',
            f'mail_from = "help@{shop}.example"',
            "",
        ]
    (tmp_path / "shops.toml").write_text("\n".join(lines))
    cli = SheetqueueCli(
        tmp_path,
        SHEETQUEUE_SHOPS=str(tmp_path / "shops.toml"),
        SHEETQUEUE_SHEETS_API_URL=emulator.url,
    )
    return cli, books


def _mail(folder: Path, shop: str) -> list[mailbox.MaildirMessage]:
    path = folder / f"mail-{shop}"
    return list(mailbox.Maildir(path, create=False)) if path.exists() else []


def _text(message: mailbox.MaildirMessage) -> str:
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    body = parsed.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def test_one_tick_passes_every_shop_each_through_its_own_maildir(tmp_path: Path) -> None:
    """Two sheet shops and a local one: every shopper told once, by their own shop's mail."""
    cli, _books = _deployment(tmp_path, 3)
    first = cli("tick", "--json", timeout=120)
    assert first.code == 0, first.stderr
    document = first.json()
    assert [s["shop"] for s in document["shops"]] == list(SHOPS)
    assert all(s["ok"] and s["changed"] == 3 and s["notified"] == 3 for s in document["shops"]), (
        first.stderr[-3000:]
    )
    assert document["notified"] == 9
    for shop in SHOPS:
        messages = _mail(tmp_path, shop)
        assert len(messages) == 3
        assert {m["From"] for m in messages} == {f"help@{shop}.example"}
        assert {m["To"].split("@")[1] for m in messages} == {f"{shop}.example"}
        assert all(f"{shop.title()} Goods" in _text(m) for m in messages), shop
    second = cli("tick", "--json", timeout=120)
    assert second.code == 0 and second.json()["notified"] == 0
    assert all(len(_mail(tmp_path, shop)) == 3 for shop in SHOPS)
    listed = cli("shops", "--json")
    assert listed.code == 0, listed.stderr
    assert [row["shop"] for row in listed.json()] == list(SHOPS)
    assert all(row["last_pass"] and row["open_total"] == 0 for row in listed.json())
    assert (tmp_path / "shops" / "north" / "state.db").exists()  # each shop its own state


def test_a_failing_shop_never_stops_the_others(tmp_path: Path) -> None:
    """North's sheet has a title row over its header: it fails, south and corner still pass."""
    cli, _books = _deployment(tmp_path, 2, broken="north")
    result = cli("tick", timeout=120)
    assert result.code == 1
    assert "north: failed: sheetqueue stopped on 'Requests'" in result.stdout
    assert "south: checked 2, changed 2, notified 2" in result.stdout
    assert "corner: checked 2, changed 2, notified 2" in result.stdout
    assert "error: 1 of 3 shops failed: north" in result.stderr and "Traceback" not in result.stderr
    assert _mail(tmp_path, "north") == [] and len(_mail(tmp_path, "south")) == 2
    listed = {row["shop"]: row for row in cli("shops", "--json").json()}
    assert listed["north"]["last_pass"] is None and "header" in listed["north"]["error"]
    assert listed["south"]["error"] is None and listed["south"]["last_pass"]
    table = cli("shops")
    assert table.code == 0 and "never" in table.stdout and "Corner" not in table.stdout


def test_a_bad_shops_file_stops_tick_at_start_naming_the_shop(tmp_path: Path) -> None:
    """An unknown setting in one shop: exit 2, one line, nothing passed."""
    (tmp_path / "shops.toml").write_text(
        '[[shop]]\nname = "north"\nlocal_path = "n.db"\n\n'
        '[[shop]]\nname = "south"\nlocal_path = "s.db"\nstore_nmae = "South"\n'
    )
    cli = SheetqueueCli(tmp_path, SHEETQUEUE_SHOPS=str(tmp_path / "shops.toml"))
    result = cli("tick")
    assert result.code == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"error: SHEETQUEUE_SHOPS ({tmp_path / 'shops.toml'}): shop 'south': store_nmae: "
        "unknown setting; check the spelling"
    ]
    assert not (tmp_path / "n.db").exists()


def test_archive_on_the_local_store_from_the_command_line(tmp_path: Path) -> None:
    """`archive --dry-run` moves nothing; `archive` moves the old closed rows; bad days exit 2."""
    from sheetqueue.sheets.times import parse_time
    from tests.archive_kit import RECENT, archive_rows, expected_archived

    rows = archive_rows(10)
    store = SqliteStore(tmp_path / "queue.db")
    names = {h: h.lower().replace(" ", "_") for h in CANONICAL_HEADER}
    store.add_requests([Request(**{names[k]: v for k, v in r.items() if k in names}) for r in rows])
    store.close()
    recent = parse_time(RECENT)
    assert recent is not None
    days = str((datetime.now(UTC) - recent).days + 30)
    cli = SheetqueueCli(tmp_path)
    dry = cli("archive", "--closed-before", days, "--dry-run", "--json")
    assert dry.code == 0, dry.stderr
    assert dry.json()["archived"] == len(expected_archived(rows))
    assert len(cli("list", "--json").json()) == len(rows)
    done = cli("archive", "--closed-before", days)
    assert done.code == 0, done.stderr
    assert done.stdout.startswith(f"archived {len(expected_archived(rows))} rows closed before")
    listed = {row["request_id"] for row in cli("list", "--json").json()}
    assert listed == {r["Request ID"] for r in rows} - expected_archived(rows)
    bad = cli("archive", "--closed-before", "0")
    assert bad.code == 2 and "Traceback" not in bad.stderr
