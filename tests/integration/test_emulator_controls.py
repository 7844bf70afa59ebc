"""Test-side controls of the Sheets emulator: faults, quotas, hand edits, the call log."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import gspread
import httpx
import pytest
from gspread.utils import ValueInputOption

from sheetqueue.sheets.testing.emulator import Emulator, emulator_client

HEADER = ["Request ID", "Status", "Order ID"]
ROOT = Path(__file__).resolve().parents[2]


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="module")
def server(clock: FakeClock) -> Iterator[Emulator]:
    with Emulator(clock=clock) as emu:
        yield emu


@pytest.fixture
def emu(server: Emulator) -> Emulator:
    server.reset()
    return server


def _book(emu: Emulator) -> str:
    rows = [HEADER, ["r1", "Pending", "ORD-2"], ["r2", "Done", "ORD-1"], ["r3", "", "ORD-3"]]
    return emu.create_spreadsheet("Queue", {"Requests": rows})


def _client(emu: Emulator) -> gspread.Client:
    assert emu.url is not None
    return emulator_client(emu.url, timeout=5)


def test_fail_next_answers_429_then_succeeds(emu: Emulator) -> None:
    """fail_next(1, 429) makes exactly one call fail with RESOURCE_EXHAUSTED."""
    book = _book(emu)
    sheet = _client(emu).open_by_key(book)
    emu.fail_next(1, 429)
    with pytest.raises(gspread.exceptions.APIError) as caught:
        sheet.values_get("Requests!A1")
    assert caught.value.code == 429
    assert caught.value.error["status"] == "RESOURCE_EXHAUSTED"
    assert sheet.values_get("Requests!A1")["values"] == [["Request ID"]]
    assert [c.status for c in emu.calls][-2:] == [429, 200]


def test_fault_rate_is_deterministic_with_a_seed(emu: Emulator) -> None:
    """The same seed fails the same calls with the same codes."""
    book = _book(emu)
    outcomes = []
    for _ in range(2):
        emu.set_faults(rate=0.5, codes=(500, 503), seed=7)
        emu.reset_log()
        for _ in range(12):
            emu.handle("GET", f"/v4/spreadsheets/{book}", {}, None)
        outcomes.append([c.status for c in emu.calls])
    assert outcomes[0] == outcomes[1]
    assert {500, 503, 200} <= set(outcomes[0])


def test_delay_slows_every_call(emu: Emulator) -> None:
    """A fixed delay is added to each HTTP call."""
    book = _book(emu)
    emu.set_faults(delay=0.2)
    answer = httpx.get(f"{emu.url}/v4/spreadsheets/{book}", timeout=5)
    assert answer.status_code == 200
    assert answer.elapsed.total_seconds() >= 0.2


def test_read_quota_refuses_then_refills_after_a_minute(emu: Emulator, clock: FakeClock) -> None:
    """With 3 reads a minute the 4th read is a 429 until the minute has passed."""
    book = _book(emu)
    sheet = _client(emu).open_by_key(book)
    emu.set_quota(read_per_minute=3, write_per_minute=None)
    for _ in range(3):
        sheet.values_get("Requests!A1")
    with pytest.raises(gspread.exceptions.APIError) as caught:
        sheet.values_get("Requests!A1")
    assert caught.value.code == 429
    assert "Read requests per minute" in str(caught.value)
    sheet.values_update("Requests!C2", {"valueInputOption": "RAW"}, {"values": [["x"]]})
    clock.now += 61
    assert sheet.values_get("Requests!C2")["values"] == [["x"]]


def test_hand_sort_keeps_the_header(emu: Emulator) -> None:
    """Sorting by a header name reorders data rows and leaves row 1 alone."""
    book = _book(emu)
    emu.sort_rows(book, "Requests", "order id")
    assert [r[0] for r in emu.values(book, "Requests")] == ["Request ID", "r2", "r1", "r3"]
    emu.sort_rows(book, "Requests", "B", descending=True)
    statuses = [r[1] if len(r) > 1 else "" for r in emu.values(book, "Requests")[1:]]
    assert statuses == ["Pending", "Done", ""]


def test_hand_inserted_blank_row_catches_the_next_append(emu: Emulator) -> None:
    """A blank row a person inserts mid-table is where Google's append then writes."""
    book = _book(emu)
    emu.insert_blank_rows(book, "Requests", before_row=3)
    ws = _client(emu).open_by_key(book).worksheet("Requests")
    ws.append_row(["r4", "Pending", "ORD-4"], value_input_option=ValueInputOption.raw)
    assert [r[0] for r in emu.values(book, "Requests")] == ["Request ID", "r1", "r4", "r2", "r3"]
    assert emu.grid_size(book, "Requests")[0] == 1001


def test_hand_set_delete_and_append(emu: Emulator) -> None:
    """Typed cells parse like the UI; deleting and appending rows move the data."""
    book = _book(emu)
    emu.edit_cell(book, "Requests", 2, "Status", "Done")
    emu.edit_cell(book, "Requests", 4, "C", "00123")
    emu.delete_rows(book, "Requests", 3)
    row = emu.append_row(book, "Requests", ["r9", "Pending", "ORD-9"])
    assert row == 4
    assert emu.values(book, "Requests")[1:] == [
        ["r1", "Done", "ORD-2"],
        ["r3", "", "123"],
        ["r9", "Pending", "ORD-9"],
    ]
    assert emu.counts()["total"] == 0


def test_log_counts_reads_writes_and_failures(emu: Emulator) -> None:
    """Every API call is logged with its kind and status; reset_log forgets them."""
    book = _book(emu)
    ws = _client(emu).open_by_key(book).worksheet("Requests")
    ws.update([["x"]], "C2")
    ws.get_all_values()
    with pytest.raises(gspread.exceptions.APIError):
        ws.update([["x"]], "AA1")
    counts = emu.counts()
    assert (counts["read"], counts["write"], counts["failed"]) == (3, 2, 1)
    assert emu.calls[0].path == f"/v4/spreadsheets/{book}"
    emu.reset_log()
    assert emu.counts()["total"] == 0


def test_http_control_api_drives_the_same_controls(emu: Emulator) -> None:
    """/_emulator routes create spreadsheets, edit by hand, inject faults and show the log."""
    base = f"{emu.url}/_emulator"
    with httpx.Client(base_url=base, timeout=5) as http:
        created = http.post("/spreadsheets", json={"title": "Q", "tabs": {"Requests": [HEADER]}})
        book = created.json()["spreadsheetId"]
        edit = {"op": "append_row", "values": ["r1", "Pending", "ORD-1"]}
        assert http.post(f"/spreadsheets/{book}/tabs/Requests/edits", json=edit).json() == {
            "row": 2
        }
        assert http.post("/faults/next", json={"count": 1, "code": 503}).status_code == 200
        failed = httpx.get(f"{emu.url}/v4/spreadsheets/{book}/values/Requests", timeout=5)
        assert failed.status_code == 503
        assert failed.json()["error"]["status"] == "UNAVAILABLE"
        values = http.get(f"/spreadsheets/{book}/tabs/Requests/values").json()["values"]
        assert values == [HEADER, ["r1", "Pending", "ORD-1"]]
        log = http.get("/log").json()
        assert log["counts"]["503"] == 1
        assert log["calls"][0]["kind"] == "read"
        bad = http.post(f"/spreadsheets/{book}/tabs/Requests/edits", json={"op": "explode"})
        assert bad.status_code == 400
        assert http.post("/reset").status_code == 200
    assert emu.calls == []


def test_serve_emulator_runs_in_a_subprocess() -> None:
    """serve_emulator prints its URL; gspread and the control API then work against it."""
    code = "from sheetqueue.sheets.testing.emulator import serve_emulator; serve_emulator(port=0)"
    with subprocess.Popen(
        [sys.executable, "-u", "-c", code], stdout=subprocess.PIPE, text=True, cwd=ROOT
    ) as proc:
        try:
            _use_served_emulator(proc)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def _use_served_emulator(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    url = proc.stdout.readline().strip().rsplit(" ", 1)[1]
    assert url.startswith("http://127.0.0.1:")
    assert "SHEETQUEUE_SHEETS_API_URL=" in proc.stdout.readline()
    deadline = time.monotonic() + 10
    while True:
        try:
            created = httpx.post(f"{url}/_emulator/spreadsheets", json={"tabs": ["Requests"]})
            break
        except httpx.ConnectError:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    book = created.json()["spreadsheetId"]
    ws = emulator_client(url).open_by_key(book).worksheet("Requests")
    ws.update([["hello"]], "A1")
    assert ws.acell("A1").value == "hello"


def test_slow_append_lands_after_the_client_gave_up(emu: Emulator) -> None:
    """/_emulator/faults/appends: the append times out for the client, yet its row lands."""
    book = _book(emu)
    with httpx.Client(base_url=f"{emu.url}/_emulator", timeout=5) as http:
        slow = {"count": 1, "land_after": 0.6, "answer_after": 0.3}
        assert http.post("/faults/appends", json=slow).status_code == 200
        assert emu.faults.slow_appends_left == 1
        with pytest.raises(httpx.TimeoutException):
            httpx.post(
                f"{emu.url}/v4/spreadsheets/{book}/values/Requests!A1:append",
                params={"valueInputOption": "RAW"},
                json={"values": [["r4", "Pending", "ORD-4"]]},
                timeout=0.2,
            )
        assert emu.faults.slow_appends_left == 0
        deadline = time.monotonic() + 5
        while len(emu.values(book, "Requests")) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert emu.values(book, "Requests")[-1] == ["r4", "Pending", "ORD-4"]
        assert http.post("/faults/appends", json={"count": -1}).status_code == 400
