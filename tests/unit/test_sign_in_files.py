"""Sheet URLs and credentials files, read before anything talks to Google."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sheetqueue.config.errors import ConfigError
from sheetqueue.config.loading import load_settings
from sheetqueue.config.settings import Settings
from sheetqueue.config.shops import load_shops
from sheetqueue.config.sign_in import read_credentials_file, spreadsheet_key

KEY = "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgVE2upms"


@pytest.mark.parametrize(
    "text",
    [
        KEY,
        f"  {KEY}  ",
        f"https://docs.google.com/spreadsheets/d/{KEY}/edit#gid=0",
        f"https://docs.google.com/spreadsheets/d/{KEY}/edit?usp=sharing",
        f"https://docs.google.com/spreadsheets/u/1/d/{KEY}/",
        f"https://docs.google.com/spreadsheets/d/{KEY}",
    ],
)
def test_a_sheet_url_or_a_key_gives_the_key(text: str) -> None:
    """A browser's URL (any tail) and a plain key both give the key."""
    assert spreadsheet_key(text) == KEY


@pytest.mark.parametrize(
    "text",
    [
        "https://example.com/spreadsheets/d/abc/edit",
        "https://docs.google.com/document/d/abc/edit",
        "my sheet",
        "docs.google.com/spreadsheets/d/abc",
    ],
)
def test_anything_else_is_refused_naming_the_accepted_forms(text: str) -> None:
    """Another site, a document, a name with spaces: ValueError saying what works."""
    with pytest.raises(ValueError, match=r"docs\.google\.com/spreadsheets/d/<key>"):
        spreadsheet_key(text)


def test_the_setting_holds_the_key_when_given_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """SHEETQUEUE_SPREADSHEET_ID set to a URL is the key in the settings."""
    monkeypatch.setenv(
        "SHEETQUEUE_SPREADSHEET_ID", f"https://docs.google.com/spreadsheets/d/{KEY}/edit#gid=0"
    )
    assert load_settings().spreadsheet_id == KEY


def test_a_bad_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """The error names SHEETQUEUE_SPREADSHEET_ID."""
    monkeypatch.setenv("SHEETQUEUE_SPREADSHEET_ID", "https://example.com/x")
    with pytest.raises(ConfigError, match=r"^SHEETQUEUE_SPREADSHEET_ID: .*not a spreadsheet key"):
        load_settings()


def test_a_shops_file_spreadsheet_may_be_a_url(tmp_path: Path) -> None:
    """A shop's spreadsheet_id pasted as a URL is read as its key."""
    path = tmp_path / "shops.toml"
    url = f"https://docs.google.com/spreadsheets/d/{KEY}/edit#gid=0"
    path.write_text(f'[[shop]]\nname = "north"\nspreadsheet_id = "{url}"\n')
    [north] = load_shops(path, Settings.model_validate({"state_path": tmp_path / "s.db"})).shops
    assert north.settings.spreadsheet_id == KEY


def test_a_user_file_is_told_from_a_service_account_key(tmp_path: Path) -> None:
    """The type field decides; the description never shows a secret."""
    user = tmp_path / "user.json"
    user.write_text(
        json.dumps(
            {
                "type": "authorized_user",
                "client_id": "c",
                "client_secret": "s3cr3t",
                "refresh_token": "r3fr3sh",
            }
        )
    )
    found = read_credentials_file(user)
    assert found.kind == "authorized_user" and found.email == ""
    assert found.describe() == f"OAuth user ({user})"
    assert "s3cr3t" not in repr(found) and "r3fr3sh" not in repr(found)
    key = tmp_path / "sa.json"
    key.write_text(
        json.dumps(
            {
                "type": "service_account",
                "client_email": "bot@p.iam.gserviceaccount.com",
                "private_key": "-----BEGIN PRIVATE KEY-----",
                "token_uri": "https://t",
            }
        )
    )
    assert read_credentials_file(key).describe() == "service account bot@p.iam.gserviceaccount.com"
