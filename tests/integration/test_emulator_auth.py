"""The emulator's sign-in: its token endpoint and its Bearer checks, over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from sheetqueue.config.errors import StoreError
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.gsheets_store import GsheetsStore
from sheetqueue.sheets.model import CANONICAL_HEADER
from sheetqueue.sheets.testing.emulator import Emulator
from tests.google_sign_in_kit import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, user_file


@pytest.fixture
def emu() -> Iterator[Emulator]:
    """An emulator of this test alone, with one OAuth user and Bearer checks on."""
    with Emulator() as emulator:
        emulator.auth.add_user(CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN)
        yield emulator


def _grant(emu: Emulator, **form: str) -> requests.Response:
    fields = {
        "grant_type": "refresh_token",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "refresh_token": REFRESH_TOKEN,
        **form,
    }
    return requests.post(f"{emu.url}/token", data=fields, timeout=5)


def test_the_token_endpoint_checks_client_secret_and_refresh_token(emu: Emulator) -> None:
    """A right refresh grant gets a Bearer token; a wrong secret or token gets Google's error."""
    good = _grant(emu)
    assert good.status_code == 200 and good.json()["token_type"] == "Bearer"
    assert _grant(emu, client_secret="wrong").json()["error"] == "invalid_client"
    assert _grant(emu, refresh_token="1//other").json()["error"] == "invalid_grant"
    assert _grant(emu, grant_type="password").status_code == 400


def test_sheets_calls_need_a_token_it_issued(emu: Emulator) -> None:
    """No token or a made-up one: 401 UNAUTHENTICATED; an issued one reads the sheet."""
    book = emu.create_spreadsheet("Q", {"Requests": [list(CANONICAL_HEADER)]})
    url = f"{emu.url}/v4/spreadsheets/{book}"
    assert requests.get(url, timeout=5).status_code == 401
    fake = requests.get(url, headers={"Authorization": "Bearer made-up"}, timeout=5)
    assert fake.json()["error"]["status"] == "UNAUTHENTICATED"
    token = _grant(emu).json()["access_token"]
    assert requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5).ok


def test_the_store_signs_in_with_a_user_file_through_gspread(emu: Emulator, tmp_path: Path) -> None:
    """GsheetsStore with an authorized_user file refreshes at the emulator and reads the title."""
    assert emu.url is not None
    book = emu.create_spreadsheet("Team queue", {"Requests": [list(CANONICAL_HEADER)]})
    creds = user_file(emu, tmp_path / "user.json")
    settings = Settings(
        backend="gsheets", spreadsheet_id=book, sheets_api_url=emu.url, credentials_file=creds
    )
    store = GsheetsStore.from_settings(settings)
    assert store.read_requests() == [] and store.title == "Team queue"
    assert store.api.sign_in.kind == "authorized_user"
    emu.auth.deny(CLIENT_ID)
    again = GsheetsStore.from_settings(settings)
    with pytest.raises(StoreError, match="signed in as with `sheetqueue login`"):
        again.read_requests()
