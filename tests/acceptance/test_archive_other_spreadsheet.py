"""``sheetqueue archive`` into another spreadsheet: the CLI as a subprocess on the emulator.

The queue is in one emulator spreadsheet, the archive tabs go to a second one
(``--to-spreadsheet`` or ``SHEETQUEUE_ARCHIVE_SPREADSHEET_ID``); the audit log
stays in the queue's ``Log`` tab.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sheetqueue.sheets.gsheets_archive import ARCHIVE_HEADER
from sheetqueue.sheets.testing.emulator import Emulator
from sheetqueue.sheets.testing.emulator.faults import Call
from sheetqueue.sheets.times import parse_time
from tests.archive_kit import HEADER, OLD, RECENT, archive_rows, expected_archived, sheet_row
from tests.cli_runner import SheetqueueCli, cli_on_sheet
from tests.google_sign_in_kit import service_account_file
from tests.store_backends import shared_emulator

LAST_YEAR = "2025-06-10T10:00:00Z"
SA_EMAIL = "archiver@shop-project.iam.gserviceaccount.com"


def _days() -> str:
    """A cut-off that falls between OLD (and LAST_YEAR) and RECENT."""
    recent = parse_time(RECENT)
    assert recent is not None
    return str((datetime.now(UTC) - recent).days + 30)


def _history(count: int) -> tuple[list[dict[str, str]], dict[str, str]]:
    """``count`` rows; every other archivable row closed last year. Returns rows, ID -> tab."""
    rows = archive_rows(count)
    wanted = expected_archived(rows)
    tabs: dict[str, str] = {}
    for n, row in enumerate(rows):
        if row["Request ID"] not in wanted:
            continue
        if n % 2:
            row["Checked At"] = LAST_YEAR
            row["Notified"] = row["Notified"].replace(OLD, LAST_YEAR)
        tabs[row["Request ID"]] = "Archive 2025" if n % 2 else "Archive 2026"
    return rows, tabs


def _queue(emulator: Emulator, rows: list[dict[str, str]]) -> str:
    return emulator.create_spreadsheet(
        "Queue", {"Requests": [list(HEADER), *(sheet_row(r, HEADER) for r in rows)]}
    )


def _tab_ids(emulator: Emulator, book: str, tab: str) -> list[str]:
    try:
        values = emulator.values(book, tab)
    except Exception:  # no such tab
        return []
    return [row[0] for row in values[1:] if row and row[0]]


def _live(emulator: Emulator, book: str) -> list[str]:
    return _tab_ids(emulator, book, "Requests")


def _archive_lines(emulator: Emulator, book: str) -> Counter[str]:
    log = _tab_rows(emulator, book, "Log")
    return Counter(line[1] for line in log if len(line) > 4 and line[4] == "archive")


def _tab_rows(emulator: Emulator, book: str, tab: str) -> list[list[str]]:
    try:
        return [list(map(str, row)) for row in emulator.values(book, tab)]
    except Exception:  # no such tab
        return []


def _url(key: str) -> str:
    return f"https://docs.google.com/spreadsheets/d/{key}/edit#gid=0"


def test_history_over_two_years_moves_to_two_dated_tabs_of_the_other_spreadsheet(
    tmp_path: Path,
) -> None:
    """300 rows, closed in 2025 and 2026: each lands once in its year's tab of the other sheet."""
    emulator = shared_emulator()
    assert emulator.url is not None
    rows, tabs = _history(300)
    queue = _queue(emulator, rows)
    target = emulator.create_spreadsheet("Archive book", {"Sheet1": []})
    cli = cli_on_sheet(tmp_path, emulator, queue)
    args = ("archive", "--closed-before", _days(), "--to-spreadsheet", _url(target))
    dry = cli(*args, "--dry-run")
    assert dry.code == 0, dry.stderr
    assert dry.stdout.startswith(f"would archive {len(tabs)} rows closed before")
    assert f"to spreadsheet {target!r}" in dry.stdout
    dry_doc = cli(*args, "--dry-run", "--json").json()
    assert dry_doc["spreadsheet"] == target and dry_doc["archived"] == len(tabs)
    assert len(_live(emulator, queue)) == len(rows) and not _tab_ids(
        emulator, target, "Archive 2026"
    )
    done = cli(*args, "--json")
    assert done.code == 0, done.stderr
    doc = done.json()
    per_tab = Counter(tabs.values())
    assert doc["spreadsheet"] == target and doc["tabs"] == dict(sorted(per_tab.items()))
    for tab in ("Archive 2025", "Archive 2026"):
        held = _tab_ids(emulator, target, tab)
        assert sorted(held) == sorted(rid for rid, t in tabs.items() if t == tab)
        assert not _tab_ids(emulator, queue, tab)  # nothing archived in the queue's own sheet
    live = _live(emulator, queue)
    assert set(live) == {r["Request ID"] for r in rows} - set(tabs)
    lines = _archive_lines(emulator, queue)
    assert set(lines) == set(tabs) and set(lines.values()) == {1}
    note = next(line[5] for line in _tab_rows(emulator, queue, "Log") if line[4] == "archive")
    assert target in note
    archive = emulator.values(target, "Archive 2026")
    assert tuple(archive[0]) == ARCHIVE_HEADER
    by_id = {row[0]: dict(zip(ARCHIVE_HEADER, row, strict=False)) for row in archive[1:]}
    first = by_id["REQ-ARC0000000000000"]
    assert first["Reason"] == "=1+1" and first["Order ID"] == "000000"  # text stays text
    assert first["Other Columns"] == '{"Courier": "crate 0"}'
    again = cli(*args, "--json").json()
    assert again["archived"] == 0 and again["copied"] == 0


def _on(book: str, method: str, tail: str) -> Callable[[Call], bool]:
    """Calls on ``book`` with ``method`` whose path after the key contains ``tail``."""
    prefix = f"/v4/spreadsheets/{book}"

    def match(call: Call) -> bool:
        rest = call.path.removeprefix(prefix)
        return rest != call.path and call.method == method and tail in rest

    return match


def test_archive_to_another_spreadsheet_killed_at_copy_verify_and_delete_loses_nothing(
    tmp_path: Path,
) -> None:
    """SIGKILL mid-copy, after a read-back, mid-delete: reruns finish, no loss, no duplicate."""
    emulator = shared_emulator()
    assert emulator.url is not None
    rows = archive_rows(100)
    every = {row["Request ID"] for row in rows}
    wanted = expected_archived(rows)
    queue = _queue(emulator, rows)
    target = emulator.create_spreadsheet("Archive book", {"Sheet1": []})
    cli = cli_on_sheet(
        tmp_path,
        emulator,
        queue,
        SHEETQUEUE_ARCHIVE_SPREADSHEET_ID=_url(target),
    )
    args = ("archive", "--closed-before", _days(), "--batch", "3", "--json")
    points = [  # (step, the calls to wait for, how many) before the SIGKILL
        ("copy", _on(target, "POST", ":append"), 2),
        ("verify", _on(target, "GET", "/values/"), 3),
        ("log", _on(queue, "POST", "/values:batchUpdate"), 2),
        ("delete", lambda call: call.path == f"/v4/spreadsheets/{queue}:batchUpdate", 3),
    ]
    killed = 0
    for name, match, count in points:
        emulator.reset_log()
        process = cli.popen(*args)
        while process.poll() is None and sum(map(match, emulator.calls)) < count:
            time.sleep(0.002)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed += 1
        process.communicate(timeout=30)
        live, archived = _live(emulator, queue), _tab_ids(emulator, target, "Archive 2026")
        lost = every - set(live) - set(archived)
        doubled = [rid for rid, n in Counter(archived).items() if n > 1]
        assert not lost and not doubled, (name, lost, doubled)
        assert len(live) == len(set(live)), name
    assert killed == len(points)  # the runs were killed mid-way, not finished
    done = cli(*args, timeout=120)
    assert done.code == 0, done.stderr
    live, archived = _live(emulator, queue), _tab_ids(emulator, target, "Archive 2026")
    assert sorted(archived) == sorted(wanted) and set(live) == every - wanted
    assert not _tab_ids(emulator, queue, "Archive 2026")
    lines = _archive_lines(emulator, queue)
    assert set(lines) == wanted and set(lines.values()) == {1}


def test_an_archive_spreadsheet_not_shared_leaves_every_live_row_and_names_the_address(
    tmp_path: Path,
) -> None:
    """403 on the archive sheet: exit 1, share-with address named, live rows and Log untouched."""
    with Emulator() as emulator:
        assert emulator.url is not None
        emulator.auth.required = True
        rows = archive_rows(20)
        queue = _queue(emulator, rows)
        target = emulator.create_spreadsheet("Archive book", {"Sheet1": []})
        creds = service_account_file(emulator, tmp_path / "sa.json", SA_EMAIL)
        emulator.auth.deny(SA_EMAIL, target)
        cli = cli_on_sheet(
            tmp_path,
            emulator,
            queue,
            SHEETQUEUE_ARCHIVE_SPREADSHEET_ID=target,
            SHEETQUEUE_CREDENTIALS_FILE=str(creds),
        )
        before = emulator.values(queue, "Requests")
        result = cli("archive", "--closed-before", _days())
        assert result.code == 1
        text = " ".join(result.stderr.split())
        assert f"no access to spreadsheet {target!r}" in text
        assert f"share it with the service account {SA_EMAIL} (Share -> Editor)" in text
        assert "Traceback" not in result.stdout + result.stderr
        assert emulator.values(queue, "Requests") == before
        assert not _archive_lines(emulator, queue)
        check = cli("check", "--json")
        assert check.code == 1
        failed = [c for c in check.json()["checks"] if not c["ok"]]
        assert [c["name"] for c in failed] == ["archive spreadsheet"]
        assert SA_EMAIL in failed[0]["message"]


def test_a_missing_archive_spreadsheet_exits_2_and_check_reaches_a_good_one(
    tmp_path: Path,
) -> None:
    """No such archive sheet: exit 2 naming the setting, rows kept; check shows a good title."""
    emulator = shared_emulator()
    assert emulator.url is not None
    rows = archive_rows(10)
    queue = _queue(emulator, rows)
    target = emulator.create_spreadsheet("Archive book", {"Sheet1": []})
    env = {
        "SHEETQUEUE_BACKEND": "gsheets",
        "SHEETQUEUE_SPREADSHEET_ID": queue,
        "SHEETQUEUE_SHEETS_API_URL": emulator.url,
    }
    cli = SheetqueueCli(tmp_path, **env)
    before = emulator.values(queue, "Requests")
    missing = cli("archive", "--closed-before", _days(), "--to-spreadsheet", "NoSuchBook123")
    assert missing.code == 2
    assert "SHEETQUEUE_ARCHIVE_SPREADSHEET_ID or --to-spreadsheet" in missing.stderr
    assert "Traceback" not in missing.stderr and emulator.values(queue, "Requests") == before
    bad = cli("archive", "--closed-before", "30", "--to-spreadsheet", "not a key!")
    assert bad.code == 2 and bad.stderr.startswith("error: --to-spreadsheet: not a spreadsheet")
    good = cli("check", "--json", SHEETQUEUE_ARCHIVE_SPREADSHEET_ID=_url(target))
    [found] = [c for c in good.json()["checks"] if c["name"] == "archive spreadsheet"]
    assert found["ok"] is True and "'Archive book'" in found["message"]


def test_an_archive_spreadsheet_on_the_local_store_is_refused(tmp_path: Path) -> None:
    """SHEETQUEUE_ARCHIVE_SPREADSHEET_ID with the local store: one line, exit 2."""
    cli = SheetqueueCli(tmp_path, SHEETQUEUE_ARCHIVE_SPREADSHEET_ID="SomeBook123")
    result = cli("archive", "--closed-before", "30")
    assert result.code == 2
    assert result.stderr.strip() == (
        "error: SHEETQUEUE_ARCHIVE_SPREADSHEET_ID: needs SHEETQUEUE_BACKEND=gsheets "
        "(the local store archives into its own file)"
    )


def test_the_scheduled_archive_of_each_shop_goes_to_that_shops_archive_spreadsheet(
    tmp_path: Path,
) -> None:
    """Shops file: north archives into its own other spreadsheet, south into its own sheet."""
    emulator = shared_emulator()
    assert emulator.url is not None
    rows = archive_rows(20)
    wanted = expected_archived(rows)
    north, south = _queue(emulator, rows), _queue(emulator, rows)
    target = emulator.create_spreadsheet("North archive", {"Sheet1": []})
    (tmp_path / "orders.json").write_text("[]")
    lines = []
    for name, book, extra in (
        ("north", north, f'archive_spreadsheet_id = "{_url(target)}"'),
        ("south", south, ""),
    ):
        lines += [
            "[[shop]]",
            f'name = "{name}"',
            f'spreadsheet_id = "{book}"',
            'orders = "file:orders.json"',
            f'notify = "maildir:mail-{name}"',
            f"archive_closed_after_days = {_days()}",
            extra,
            "",
        ]
    (tmp_path / "shops.toml").write_text("\n".join(lines))
    cli = SheetqueueCli(
        tmp_path,
        SHEETQUEUE_SHOPS=str(tmp_path / "shops.toml"),
        SHEETQUEUE_SHEETS_API_URL=emulator.url,
    )
    result = cli("tick", "--json", timeout=120)
    assert result.code == 0, result.stderr[-3000:]
    assert sorted(_tab_ids(emulator, target, "Archive 2026")) == sorted(wanted)
    assert not _tab_ids(emulator, north, "Archive 2026")
    assert sorted(_tab_ids(emulator, south, "Archive 2026")) == sorted(wanted)
    for book in (north, south):
        assert not set(_live(emulator, book)) & wanted
        assert set(_archive_lines(emulator, book)) == wanted
