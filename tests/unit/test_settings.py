"""Settings: defaults, TOML file, environment first, one clear line for a bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from sheetqueue.config.errors import ConfigError
from sheetqueue.config.loading import load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No SHEETQUEUE_ variable from the outside leaks in; run in an empty folder."""
    import os

    for key in list(os.environ):
        if key.startswith("SHEETQUEUE_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def test_defaults_follow_the_contract() -> None:
    """With nothing set, the embedded store, the Orders tab and a maildir outbox."""
    settings = load_settings()
    assert settings.backend == "local"
    assert settings.local_path == Path("sheetqueue.db")
    assert settings.orders == "tab:Orders"
    assert settings.notify == ["maildir:./outbox"]
    assert settings.interval_seconds == 60
    assert settings.policy.return_window_days == 30
    assert settings.policy.window_for_category("electronics") == 15
    assert settings.policy.non_returnable_categories == ("gift_card", "personalized")


def test_toml_file_and_environment_with_environment_winning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """./sheetqueue.toml is read; an environment variable overrides it."""
    (tmp_path / "sheetqueue.toml").write_text(
        'interval_seconds = 15\nstore_name = "Tee Shop"\n'
        "[policy]\nreturn_window_days = 45\ncategory_windows = { electronics = 20 }\n"
    )
    monkeypatch.setenv("SHEETQUEUE_INTERVAL_SECONDS", "5")
    settings = load_settings()
    assert settings.interval_seconds == 5
    assert settings.store_name == "Tee Shop"
    assert settings.policy.return_window_days == 45
    assert settings.policy.window_for_category("electronics") == 20


def test_notify_is_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    """SHEETQUEUE_NOTIFY names several notifiers."""
    monkeypatch.setenv("SHEETQUEUE_NOTIFY", "smtp://127.0.0.1:2525, webhook:http://127.0.0.1:9/x")
    assert load_settings().notify == ["smtp://127.0.0.1:2525", "webhook:http://127.0.0.1:9/x"]


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("SHEETQUEUE_BACKEND", "excel", "SHEETQUEUE_BACKEND: Input should be 'local' or 'gsheets'"),
        ("SHEETQUEUE_INTERVAL_SECONDS", "soon", "SHEETQUEUE_INTERVAL_SECONDS: Input should be"),
        ("SHEETQUEUE_NOTIFY", "pigeon:home", "SHEETQUEUE_NOTIFY: unknown notifier 'pigeon:home'"),
        ("SHEETQUEUE_TIMEZONE", "Mars/Olympus", "SHEETQUEUE_TIMEZONE: unknown time zone"),
        ("SHEETQUEUE_ORDERS", "ftp://x", "SHEETQUEUE_ORDERS: must start with tab:"),
        ("SHEETQUEUE_POLICY__GRACE_DAYS", "-1", "[policy] grace_days"),
        ("SHEETQUEUE_CONFIG", "missing.toml", "SHEETQUEUE_CONFIG: no such file"),
    ],
)
def test_bad_setting_is_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    """A bad value raises ConfigError whose message starts with the setting's name."""
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value).startswith(expected)


def test_gsheets_needs_a_spreadsheet_id(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Google backend without a spreadsheet key is refused at start."""
    monkeypatch.setenv("SHEETQUEUE_BACKEND", "gsheets")
    with pytest.raises(ConfigError, match="SHEETQUEUE_SPREADSHEET_ID: required"):
        load_settings()


def test_unknown_key_in_toml_is_refused(tmp_path: Path) -> None:
    """A typo in the TOML file is reported, not ignored."""
    (tmp_path / "sheetqueue.toml").write_text("intervall_seconds = 5\n")
    with pytest.raises(ConfigError, match="SHEETQUEUE_INTERVALL_SECONDS: unknown setting"):
        load_settings()


def test_broken_toml_is_one_clear_line(tmp_path: Path) -> None:
    """A TOML file that does not parse is named."""
    (tmp_path / "sheetqueue.toml").write_text("interval_seconds = = 5\n")
    with pytest.raises(ConfigError, match="SHEETQUEUE_CONFIG: cannot read the TOML file"):
        load_settings()
