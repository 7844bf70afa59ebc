"""Signing in to Google through the CLI: OAuth user files, service accounts, sheet URLs, check."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sheetqueue.sheets.model import CANONICAL_HEADER
from sheetqueue.sheets.testing.emulator import Emulator
from tests.cli_runner import SheetqueueCli
from tests.factories import make_order_record
from tests.google_sign_in_kit import (
    CLIENT_ID,
    CLIENT_SECRET,
    REFRESH_TOKEN,
    service_account_file,
    user_file,
)

TITLE = "North shop queue"
SA_EMAIL = "queue-bot@shop-project.iam.gserviceaccount.com"


@pytest.fixture
def emu() -> Iterator[Emulator]:
    """An emulator of this test alone, checking every Sheets call's Bearer token."""
    with Emulator() as emulator:
        emulator.auth.add_user(CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN)
        yield emulator


def _pending_row(order_id: str) -> list[str]:
    cells = dict.fromkeys(CANONICAL_HEADER, "")
    cells.update(
        {
            "Timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
            "Type": "cancellation",
            "Email": "ana@example.com",
            "Order ID": order_id,
            "Conversation ID": "conv-1",
            "Status": "Pending",
        }
    )
    return [cells[name] for name in CANONICAL_HEADER]


def _cli(emu: Emulator, tmp_path: Path, credentials: Path, *, url: bool = True) -> SheetqueueCli:
    """The CLI on a new spreadsheet of ``emu`` named by its URL (or its key)."""
    assert emu.url is not None
    book = emu.create_spreadsheet(
        TITLE, {"Requests": [list(CANONICAL_HEADER), _pending_row("ORD-1001")]}
    )
    (tmp_path / "orders.json").write_text(json.dumps([make_order_record()]))
    sheet = f"https://docs.google.com/spreadsheets/d/{book}/edit#gid=0" if url else book
    return SheetqueueCli(
        tmp_path,
        SHEETQUEUE_BACKEND="gsheets",
        SHEETQUEUE_SHEETS_API_URL=emu.url,
        SHEETQUEUE_SPREADSHEET_ID=sheet,
        SHEETQUEUE_CREDENTIALS_FILE=str(credentials),
        SHEETQUEUE_ORDERS="file:orders.json",
    )


def test_check_with_an_oauth_user_file_names_the_user_and_the_sheet_title(
    emu: Emulator, tmp_path: Path
) -> None:
    """An authorized_user file signs in at its token_uri; check says who and which sheet."""
    creds = user_file(emu, tmp_path / "user.json", account="team@shop.example")
    result = _cli(emu, tmp_path, creds)("check", COLUMNS="80")
    assert result.code == 0, result.stdout + result.stderr
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    out = "".join(result.stdout.split())  # wrapped at 80 columns
    assert f"account:OAuthuser({creds})team@shop.example" in out
    assert f"1requestsin{TITLE!r}".replace(" ", "") in out
    assert emu.auth.grants >= 1


def test_tick_with_an_oauth_user_file_works_the_queue(emu: Emulator, tmp_path: Path) -> None:
    """A cron tick signed in as a user moves the Pending row through the Bearer-checked API."""
    creds = user_file(emu, tmp_path / "user.json")
    cli = _cli(emu, tmp_path, creds)
    result = cli("tick", "--json")
    assert result.code == 0, result.stderr
    assert result.json()["checked"] == 1
    [book] = list(emu.workspace.books)
    header, row = emu.values(book, "Requests")[:2]
    assert row[header.index("Status")] not in ("", "Pending")


def test_a_revoked_refresh_token_fails_check_saying_to_log_in_again(
    emu: Emulator, tmp_path: Path
) -> None:
    """A refresh token the token endpoint refuses: check exits 1, says to run login again."""
    creds = user_file(emu, tmp_path / "user.json", refresh_token="1//revoked")
    result = _cli(emu, tmp_path, creds)("check")
    assert result.code == 1
    assert "sheetqueue login` again" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_a_sheet_not_shared_with_the_service_account_names_its_address(
    emu: Emulator, tmp_path: Path
) -> None:
    """On a 403 check names the service account's address to share with, as an editor."""
    creds = service_account_file(emu, tmp_path / "sa.json", SA_EMAIL)
    emu.auth.deny(SA_EMAIL)
    result = _cli(emu, tmp_path, creds, url=False)("check")
    assert result.code == 1
    out = " ".join(result.stdout.split())
    assert f"account: service account {SA_EMAIL}" in out
    assert f"share it with the service account {SA_EMAIL} (Share -> Editor)" in out


def test_check_json_is_one_document_with_every_check_the_account_and_title(
    emu: Emulator, tmp_path: Path
) -> None:
    """check --json: every check's name, ok and message, the account and the title."""
    creds = service_account_file(emu, tmp_path / "sa.json", SA_EMAIL)
    cli = _cli(emu, tmp_path, creds)
    result = cli("check", "--json")
    assert result.code == 0, result.stderr
    doc = result.json()
    assert doc["ok"] is True
    assert doc["account"] == f"service account {SA_EMAIL}"
    assert doc["spreadsheet"]["title"] == TITLE
    names = [check["name"] for check in doc["checks"]]
    assert names[:3] == ["configuration", "templates", "state"]
    assert {"account", "store (gsheets)", "order source (file:orders.json)"} <= set(names)
    assert all(set(check) == {"name", "ok", "message"} for check in doc["checks"])
    emu.auth.deny(SA_EMAIL)
    denied = cli("check", "--json")
    assert denied.code == 1
    failed = [c for c in denied.json()["checks"] if not c["ok"]]
    assert [c["name"] for c in failed] == ["store (gsheets)"]
    assert SA_EMAIL in failed[0]["message"] and denied.json()["ok"] is False


def test_check_json_on_bad_configuration_exits_2_with_the_failed_check(tmp_path: Path) -> None:
    """Bad configuration under --json: one document naming it, exit 2, no traceback."""
    bad = tmp_path / "creds.json"
    bad.write_text(json.dumps({"type": "authorized_user", "client_id": "x"}))
    cli = SheetqueueCli(tmp_path, SHEETQUEUE_CREDENTIALS_FILE=str(bad))
    result = cli("check", "--json")
    assert result.code == 2
    [only] = result.json()["checks"]
    assert only["name"] == "configuration" and only["ok"] is False
    assert '"client_secret"' in only["message"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ({"type": "authorized_user", "client_id": "a", "client_secret": "b"}, 'no "refresh_token"'),
        ({"type": "service_account", "client_email": "x@y"}, 'no "private_key"'),
        ({"type": "external_account"}, "type 'external_account'"),
        ({"client_id": "a"}, 'no "type"'),
        ({"installed": {"client_id": "a"}}, "sheetqueue login --client-secrets"),
    ],
)
def test_a_credentials_file_that_cannot_sign_in_exits_2_saying_what_is_missing(
    tmp_path: Path, content: dict[str, object], expected: str
) -> None:
    """tick refuses an unusable credentials file before any work: one line, exit 2."""
    path = tmp_path / "creds.json"
    path.write_text(json.dumps(content))
    result = SheetqueueCli(tmp_path, SHEETQUEUE_CREDENTIALS_FILE=str(path))("tick")
    assert result.code == 2
    assert result.stderr.startswith("error: SHEETQUEUE_CREDENTIALS_FILE:")
    assert expected in result.stderr and "Traceback" not in result.stderr


def test_a_spreadsheet_setting_that_is_neither_key_nor_url_exits_2(tmp_path: Path) -> None:
    """A pasted link to something else is refused with the accepted forms named."""
    cli = SheetqueueCli(
        tmp_path,
        SHEETQUEUE_BACKEND="gsheets",
        SHEETQUEUE_SPREADSHEET_ID="https://example.com/sheet/1",
    )
    result = cli("check")
    assert result.code == 2
    assert result.stderr.startswith("error: SHEETQUEUE_SPREADSHEET_ID:")
    assert "docs.google.com/spreadsheets/d/" in result.stderr
