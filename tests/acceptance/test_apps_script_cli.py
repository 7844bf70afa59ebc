"""``sheetqueue apps-script``: the companion script filled in, or one clear line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sheetqueue.companion import filled_script, manifest_text
from tests.cli_runner import SheetqueueCli

SECRET = "9f2c-shop-secret-value"
FILLED = {
    "SHEETQUEUE_SHEET_EVENTS_SECRET": SECRET,
    "SHEETQUEUE_PUBLIC_URL": "https://q.example.com/",
}


@pytest.fixture
def shop(tmp_path: Path) -> SheetqueueCli:
    """``sheetqueue`` with the public URL and the sheet events secret set."""
    return SheetqueueCli(tmp_path, **FILLED)


def test_the_script_is_printed_filled_in_and_the_steps_go_to_stderr(shop: SheetqueueCli) -> None:
    """stdout is Code.gs with the URL and secret in place; stderr has the four steps."""
    done = shop("apps-script")
    assert done.code == 0, done.stderr
    assert done.stdout == filled_script("https://q.example.com", SECRET)
    assert 'var SHEETQUEUE_URL = "https://q.example.com";' in done.stdout
    assert f'var SHEETQUEUE_SECRET = "{SECRET}";' in done.stdout
    assert "__SHEETQUEUE_" not in done.stdout.split("function isConfigured_")[0]
    assert [line[:2] for line in done.stderr.splitlines() if line[:1].isdigit()] == [
        "1.",
        "2.",
        "3.",
        "4.",
    ]
    assert SECRET not in done.stderr


def test_url_option_overrides_the_setting_and_local_http_is_allowed(shop: SheetqueueCli) -> None:
    """--url wins over SHEETQUEUE_PUBLIC_URL; http:// is accepted for 127.0.0.1 only."""
    done = shop("apps-script", "--url", "http://127.0.0.1:8000")
    assert done.code == 0, done.stderr
    assert 'var SHEETQUEUE_URL = "http://127.0.0.1:8000";' in done.stdout
    plain = shop("apps-script", "--url", "http://queue.example.com")
    assert plain.code == 2 and plain.stdout == ""
    assert plain.stderr.startswith("error: --url:") and "https://" in plain.stderr
    assert len(plain.stderr.splitlines()) == 1


def test_a_missing_url_is_a_config_error(cli: SheetqueueCli) -> None:
    """Without --url or SHEETQUEUE_PUBLIC_URL the command says what to set and exits 2."""
    done = cli("apps-script", SHEETQUEUE_SHEET_EVENTS_SECRET=SECRET)
    assert done.code == 2 and done.stdout == ""
    assert done.stderr.startswith("error: SHEETQUEUE_PUBLIC_URL: not set")
    assert "Traceback" not in done.stderr and SECRET not in done.stderr


def test_a_missing_secret_is_a_config_error(cli: SheetqueueCli) -> None:
    """Without SHEETQUEUE_SHEET_EVENTS_SECRET the command says what to set and exits 2."""
    done = cli("apps-script", SHEETQUEUE_PUBLIC_URL="https://q.example.com")
    assert done.code == 2 and done.stdout == ""
    assert done.stderr.startswith("error: SHEETQUEUE_SHEET_EVENTS_SECRET: not set")


def test_the_secret_never_reaches_stderr_even_with_debug_logs(shop: SheetqueueCli) -> None:
    """With debug logging on, stderr (where logs go) still never holds the secret."""
    done = shop("apps-script", SHEETQUEUE_LOG_LEVEL="DEBUG")
    assert done.code == 0, done.stderr
    assert SECRET not in done.stderr


def test_manifest_and_guide_need_no_settings(cli: SheetqueueCli) -> None:
    """--manifest prints appsscript.json (V8, the four scopes); --guide prints the steps alone."""
    manifest = cli("apps-script", "--manifest")
    assert manifest.code == 0 and manifest.stdout == manifest_text()
    document = json.loads(manifest.stdout)
    assert document["runtimeVersion"] == "V8"
    assert document["exceptionLogging"] == "STACKDRIVER"
    assert {scope.rsplit("/", 1)[1] for scope in document["oauthScopes"]} == {
        "spreadsheets.currentonly",
        "script.external_request",
        "script.scriptapp",
        "userinfo.email",
    }
    guide = cli("apps-script", "--guide")
    assert guide.code == 0 and guide.stdout.startswith("Install the Apps Script companion")
    assert "sheetqueue apps-script > Code.gs" in guide.stdout
