"""The installed shape: one package, its version, a production path free of test parts."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from sheetqueue import __version__
from sheetqueue.sheets.model import CANONICAL_HEADER
from tests.store_backends import shared_emulator

ROOT = Path(__file__).resolve().parents[2]


def test_version_comes_from_the_package_metadata() -> None:
    """``python -m sheetqueue --version`` prints the installed distribution's version."""
    done = subprocess.run(
        [sys.executable, "-m", "sheetqueue", "--version"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT.parent,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"sheetqueue {__version__}"
    assert __version__[0].isdigit()


def test_a_bare_config_module_in_the_working_directory_changes_nothing(tmp_path: Path) -> None:
    """A shop's own ``config.py`` or ``worker.py`` beside the command cannot shadow ours."""
    (tmp_path / "config.py").write_text("raise SystemExit('the wrong config was imported')\n")
    (tmp_path / "worker.py").write_text("raise SystemExit('the wrong worker was imported')\n")
    done = subprocess.run(
        [sys.executable, "-m", "sheetqueue", "list", "--json"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "SHEETQUEUE_LOCAL_PATH": str(tmp_path / "q.db")},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_google_path_loads_no_emulator_and_no_web_server(tmp_path: Path) -> None:
    """``sheetqueue tick`` on gsheets imports the gspread store, never a test part or uvicorn."""
    emulator = shared_emulator()
    assert emulator.url is not None
    book = emulator.create_spreadsheet("Queue", {"Requests": [list(CANONICAL_HEADER)]})
    env = {
        "PATH": "/usr/bin:/bin",
        "SHEETQUEUE_BACKEND": "gsheets",
        "SHEETQUEUE_SPREADSHEET_ID": book,
        "SHEETQUEUE_SHEETS_API_URL": emulator.url,
        "SHEETQUEUE_ORDERS": "tab:Orders",
        "SHEETQUEUE_NOTIFY": f"maildir:{tmp_path / 'outbox'}",
        "SHEETQUEUE_STATE_PATH": str(tmp_path / "state.db"),
    }
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "sheetqueue", "tick"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    modules = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert "sheetqueue.sheets.gsheets_store" in modules, done.stderr[-2000:]
    forbidden = sorted(
        name
        for name in modules
        if name.startswith(("sheetqueue.sheets.testing", "uvicorn", "starlette", "fastapi"))
    )
    assert forbidden == []


def test_the_wheel_holds_one_top_level_package(tmp_path: Path) -> None:
    """The wheel holds ``sheetqueue/`` (py.typed, templates, the emulator, the Apps Script) only."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        timeout=600,
    )
    [wheel] = tmp_path.glob("sheetqueue-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops == {"sheetqueue", f"sheetqueue-{__version__}.dist-info"}
    assert "sheetqueue/py.typed" in names
    assert "sheetqueue/worker/templates/done.txt" in names
    assert "sheetqueue/sheets/testing/emulator/server.py" in names
    assert "sheetqueue/apps_script/Code.gs" in names
    assert "sheetqueue/apps_script/appsscript.json" in names
    assert f"sheetqueue-{__version__}.dist-info/licenses/LICENSE" in names
