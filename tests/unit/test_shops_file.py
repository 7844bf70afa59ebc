"""The shops file: each shop is the base settings plus its own, checked at start."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from sheetqueue.config.errors import ConfigError
from sheetqueue.config.settings import Settings
from sheetqueue.config.shops import Shops, load_shops

GOOD = """
concurrency = 2
sheets_reads_per_minute = 30

[[shop]]
name = "north"
spreadsheet_id = "BOOK-NORTH"
credentials_file = "keys/agency.json"
orders = "file:north/orders.json"
notify = "maildir:north/mail, webhook:https://hooks.example/north"
templates_dir = "north/templates"
store_name = "North Outfitters"
mail_from = "help@north.example"
[shop.policy]
return_window_days = 14

[[shop]]
name = "south"
local_path = "/srv/south/queue.db"
state_path = "/srv/south/state.db"
"""


def _base(tmp_path: Path) -> Settings:
    return Settings.model_validate(
        {"state_path": tmp_path / "state" / "sheetqueue-state.db", "store_name": "Agency"}
    )


def _load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "shops.toml"
    path.write_text(text)
    return load_shops(path, _base(tmp_path))


def test_each_shop_is_the_base_settings_plus_its_own(tmp_path: Path) -> None:
    """Overrides apply per shop; the rest (and the policy keys it does not name) is the base."""
    path = tmp_path / "shops.toml"
    path.write_text(GOOD)
    shops = load_shops(path, _base(tmp_path))
    assert shops.names() == ["north", "south"]
    assert (shops.concurrency, shops.reads_per_minute, shops.writes_per_minute) == (2, 30, 60)
    north, south = (shop.settings for shop in shops.shops)
    assert north.backend == "gsheets" and north.spreadsheet_id == "BOOK-NORTH"
    assert north.store_name == "North Outfitters" and north.mail_from == "help@north.example"
    assert north.policy.return_window_days == 14
    assert north.policy.full_refund_days == 14 and north.policy.grace_days == 3  # base values
    assert north.orders == f"file:{tmp_path / 'north' / 'orders.json'}"
    assert north.notify == [
        f"maildir:{tmp_path / 'north' / 'mail'}",
        "webhook:https://hooks.example/north",
    ]
    assert north.templates_dir == tmp_path / "north" / "templates"
    assert north.credentials_file == tmp_path / "keys" / "agency.json"
    assert north.state_path == tmp_path / "state" / "shops" / "north" / "state.db"
    assert south.backend == "local" and south.local_path == Path("/srv/south/queue.db")
    assert south.store_name == "Agency" and south.policy.return_window_days == 30
    assert south.state_path == Path("/srv/south/state.db")
    assert shops.shops[0].quota_key == str((tmp_path / "keys" / "agency.json").resolve())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "no shops; add one [[shop]] table"),
        ("shops = 1\n", "unknown key 'shops'"),
        ('[[shop]]\nlocal_path = "a.db"\n', "shop 1: name: required"),
        ('[[shop]]\nname = "North Shop"\nlocal_path = "a.db"\n', "shop 1: name: required"),
        ('[[shop]]\nname = "a"\nbackend = "gsheets"\n', "shop 'a': spreadsheet_id: required"),
        (
            '[[shop]]\nname = "a"\nlocal_path = "a.db"\ncolour = "red"\n',
            "shop 'a': colour: unknown",
        ),
        (
            '[[shop]]\nname = "a"\nlocal_path = "a.db"\norders = "ftp://x"\n',
            "shop 'a': orders: must",
        ),
        (
            '[[shop]]\nname = "a"\nlocal_path = "a.db"\nnotify = "pigeon:x"\n',
            "shop 'a': notify: unknown notifier",
        ),
        (
            '[[shop]]\nname = "a"\nlocal_path = "a.db"\n[shop.policy]\ngrace_days = -1\n',
            "shop 'a': policy.grace_days: Input should be greater",
        ),
        (
            '[[shop]]\nname = "a"\nspreadsheet_id = "B"\n'
            '[[shop]]\nname = "b"\nspreadsheet_id = "B"\n',
            "shop 'b': spreadsheet_id: the same as shop 'a'",
        ),
        (
            '[[shop]]\nname = "a"\nlocal_path = "a.db"\n'
            '[[shop]]\nname = "a"\nlocal_path = "b.db"\n',
            "shop 'a': name: the same as shop 'a'",
        ),
        (
            '[[shop]]\nname = "a"\nlocal_path = "a.db"\nshops = "x.toml"\n',
            "shops: cannot be set per shop",
        ),
        (
            '[[shop]]\nname = "a"\nspreadsheet_id = "A"\narchive_spreadsheet_id = "OLD"\n'
            '[[shop]]\nname = "b"\nspreadsheet_id = "B"\narchive_spreadsheet_id = "OLD"\n',
            "shop 'b': archive_spreadsheet_id: the same as shop 'a'",
        ),
        (
            '[[shop]]\nname = "a"\nspreadsheet_id = "A"\narchive_spreadsheet_id = "a b"\n',
            "shop 'a': archive_spreadsheet_id: not a spreadsheet key or URL",
        ),
        (
            '[[shop]]\nname = "a"\nlocal_path = "a.db"\narchive_spreadsheet_id = "OLD"\n',
            "shop 'a': archive_spreadsheet_id: needs a Google Sheets shop",
        ),
        ("concurrency = 0\n[[shop]]\nname = 'a'\nlocal_path = 'a.db'\n", "concurrency: must be"),
        ("[[shop]\n", "not valid TOML"),
    ],
)
def test_a_bad_shops_file_is_one_line_naming_the_shop_and_the_field(
    tmp_path: Path, text: str, expected: str
) -> None:
    """Every mistake stops the start with a message that says which shop and which field."""
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    message = caught.value.message
    assert message.startswith("SHEETQUEUE_SHOPS") and "\n" not in message
    assert expected in message, message
    assert caught.value.exit_code == 2


def test_each_shop_may_archive_into_its_own_other_spreadsheet(tmp_path: Path) -> None:
    """archive_spreadsheet_id per shop, a URL or a key, read as the key; unset elsewhere."""
    text = (
        '[[shop]]\nname = "a"\nspreadsheet_id = "BOOK-A"\narchive_spreadsheet_id = '
        '"https://docs.google.com/spreadsheets/d/OLD-A_1/edit#gid=0"\n'
        '[[shop]]\nname = "b"\nspreadsheet_id = "BOOK-B"\n'
    )
    shops = _load(tmp_path, text)
    assert isinstance(shops, Shops)
    a, b = (shop.settings for shop in shops.shops)
    assert (a.archive_spreadsheet_id, b.archive_spreadsheet_id) == ("OLD-A_1", "")


def test_a_missing_shops_file_is_named(tmp_path: Path) -> None:
    """SHEETQUEUE_SHOPS pointing nowhere says so, exit 2."""
    with pytest.raises(ConfigError, match="no such file"):
        load_shops(tmp_path / "nope.toml", _base(tmp_path))


def test_shared_postgresql_state_is_refused_with_a_shops_file(tmp_path: Path) -> None:
    """SHEETQUEUE_STATE_URL (base or per shop) with a shops file is one line, not mixed state."""
    path = tmp_path / "shops.toml"
    path.write_text('[[shop]]\nname = "north"\nlocal_path = "north.db"\n')
    base = _base(tmp_path).model_copy(update={"state_url": SecretStr("postgresql://db/sq")})
    with pytest.raises(ConfigError, match="SHEETQUEUE_STATE_URL: shared PostgreSQL state"):
        load_shops(path, base)
    path.write_text('[[shop]]\nname = "north"\nstate_url = "postgresql://db/sq"\n')
    with pytest.raises(ConfigError, match="state_url: cannot be set per shop"):
        load_shops(path, _base(tmp_path))
