"""Bad settings stop ``serve``, ``worker`` and ``tick`` before they work: one line, exit 2.

Each row is a case of the README's bad-settings table, run through the real
console script.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.cli_runner import SheetqueueCli, cli_on_sheet
from tests.store_backends import shared_emulator

CASES = [
    ("tick", {"SHEETQUEUE_NOTIFY": "smtp://mail.example.com:99999"}, "SHEETQUEUE_NOTIFY:"),
    ("worker", {"SHEETQUEUE_NOTIFY": "webhook:ftp://hooks.example.com"}, "SHEETQUEUE_NOTIFY:"),
    ("serve", {"SHEETQUEUE_NOTIFY": "pigeon:coop"}, "SHEETQUEUE_NOTIFY: unknown notifier"),
    ("tick", {"SHEETQUEUE_CREDENTIALS_FILE": "{not-json}"}, "SHEETQUEUE_CREDENTIALS_FILE:"),
    ("serve", {"SHEETQUEUE_CREDENTIALS_FILE": "missing.json"}, "SHEETQUEUE_CREDENTIALS_FILE:"),
    ("worker", {"SHEETQUEUE_TEMPLATES_DIR": "no-such-dir"}, "SHEETQUEUE_TEMPLATES_DIR:"),
    ("tick", {"SHEETQUEUE_STATE_PATH": "{dir}"}, "SHEETQUEUE_STATE_PATH:"),
    ("serve", {"SHEETQUEUE_LOCAL_PATH": "{not-json}/queue.db"}, "SHEETQUEUE_LOCAL_PATH:"),
    ("tick", {"SHEETQUEUE_ORDRES": "file:orders.json"}, "did you mean SHEETQUEUE_ORDERS?"),
    (
        "worker",
        {"SHEETQUEUE_POLICY__GRACE_DAY": "3"},
        "did you mean SHEETQUEUE_POLICY__GRACE_DAYS?",
    ),
    ("worker", {"SHEETQUEUE_INTERVAL_SECONDS": "0"}, "SHEETQUEUE_INTERVAL_SECONDS:"),
    ("tick", {"SHEETQUEUE_LOCALE": "en_XX"}, "SHEETQUEUE_LOCALE: unknown locale 'en_XX'"),
    ("tick", {"SHEETQUEUE_BACKEND": "gsheets"}, "SHEETQUEUE_SPREADSHEET_ID: required"),
]


@pytest.fixture
def cli(tmp_path: Path) -> SheetqueueCli:
    (tmp_path / "not-json.txt").write_text("this is not JSON")
    (tmp_path / "a-folder").mkdir()
    return SheetqueueCli(tmp_path)


def _filled(env: dict[str, str], folder: Path) -> dict[str, str]:
    marks = {"{not-json}": str(folder / "not-json.txt"), "{dir}": str(folder / "a-folder")}
    filled = {}
    for key, value in env.items():
        for mark, path in marks.items():
            value = value.replace(mark, path)
        filled[key] = value
    return filled


@pytest.mark.parametrize(("command", "env", "words"), CASES)
def test_a_bad_setting_stops_the_command_in_one_line(
    cli: SheetqueueCli, tmp_path: Path, command: str, env: dict[str, str], words: str
) -> None:
    """The command exits 2 before doing any work, with one line naming the setting."""
    result = cli(command, timeout=30, **_filled(env, tmp_path))
    assert result.code == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and words in line
    assert not (tmp_path / "queue.db").exists()


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield int(sock.getsockname()[1])


def test_serve_on_a_port_in_use_exits_2(cli: SheetqueueCli, busy_port: int) -> None:
    """A port another program holds is bad input: exit 2 and one line, not uvicorn's exit 3."""
    result = cli("serve", "--port", str(busy_port), timeout=30)
    assert result.code == 2
    assert result.stderr.strip().splitlines() == [
        f"error: --port: {busy_port} is already in use on 127.0.0.1"
    ]


def test_serve_on_an_address_this_machine_does_not_have_exits_2(cli: SheetqueueCli) -> None:
    """An address the server cannot listen on is one line and exit 2."""
    result = cli("serve", "--host", "203.0.113.9", timeout=30, SHEETQUEUE_API_TOKEN="t")
    assert result.code == 2
    assert result.stderr.startswith("error: --host: cannot listen on 203.0.113.9")


def test_serve_on_bracketed_ipv6_loopback_answers(cli: SheetqueueCli) -> None:
    """``--host [::1]`` listens on the IPv6 loopback (no exit 3)."""
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
            port = int(probe.getsockname()[1])
    except OSError:
        pytest.skip("this machine has no IPv6 loopback")
    server = cli.popen("serve", "--host", "[::1]", "--port", str(port))
    try:
        answered = _healthz_v6(port)
    finally:
        server.terminate()
        server.communicate(timeout=30)
    assert answered


def _healthz_v6(port: int) -> bool:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            return requests.get(f"http://[::1]:{port}/healthz", timeout=2).status_code == 200
        except requests.ConnectionError:
            time.sleep(0.1)
    return False


def test_a_wrong_spreadsheet_id_exits_2(tmp_path: Path) -> None:
    """``tick`` on a spreadsheet id the Sheets API does not know: exit 2, naming the setting."""
    emulator = shared_emulator()
    cli = cli_on_sheet(tmp_path, emulator, "no-such-sheet")
    result = cli("tick", timeout=60)
    assert result.code == 2, result.stderr
    assert "SHEETQUEUE_SPREADSHEET_ID" in result.stderr and "Traceback" not in result.stderr


def test_check_gives_up_quickly_on_an_unreachable_sheets_url(tmp_path: Path) -> None:
    """Nothing listening at the Sheets URL: ``check`` reports it and exits 1 after one try."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    cli = SheetqueueCli(
        tmp_path,
        SHEETQUEUE_BACKEND="gsheets",
        SHEETQUEUE_SPREADSHEET_ID="any",
        SHEETQUEUE_SHEETS_API_URL=f"http://127.0.0.1:{port}",
    )
    result = cli("check", timeout=20)
    assert result.code == 1
    assert "fail  store (gsheets)" in result.stdout and "gave up after 1 tries" in result.stdout
