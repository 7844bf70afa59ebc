"""The sheet's pass lease kept in the state file, for the next process of one installation.

Each "process" here is a new :class:`GsheetsLease` on a new API client, on
one state file and one holder token, as cron ``tick``s are. What is kept is
only what the next compare-and-set expects to find: a new process renews
with that swap alone, and anything another holder wrote is read and obeyed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from sheetqueue.sheets.gsheets_api import SheetsApi
from sheetqueue.sheets.gsheets_lease import GsheetsLease
from sheetqueue.sheets.kept_entries import KeptEntries
from sheetqueue.sheets.lease import Holder, LeaseHeld
from sheetqueue.sheets.model import CANONICAL_HEADER
from sheetqueue.sheets.testing.emulator import emulator_client
from tests.store_backends import no_sleep_backoff, shared_emulator

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
TTL = timedelta(minutes=3)
WEB1 = Holder("token-web1", "web-1", 4123)
WEB2 = Holder("token-web2", "web-2", 977)

Process = Callable[..., GsheetsLease]


@pytest.fixture
def process(tmp_path: Path) -> Process:
    """A new process's lease on one spreadsheet: ``holder``'s, kept in one state file."""
    emulator = shared_emulator()
    assert emulator.url is not None
    book = emulator.create_spreadsheet("Queue", {"Requests": [list(CANONICAL_HEADER)]})
    url = emulator.url

    def start(holder: Holder = WEB1, ttl: timedelta = TTL, kept: bool = True) -> GsheetsLease:
        api = SheetsApi(emulator_client(url, 5.0), book, backoff=no_sleep_backoff())
        entries = KeptEntries(tmp_path / "state.db", book, "lease") if kept else None
        return GsheetsLease(api, holder, ttl, kept=entries)

    return start


def test_a_new_process_renews_with_one_call_on_the_text_kept(process: Process) -> None:
    """The first process finds the tab and reads the cell; the next one only swaps."""
    first = process()
    first.acquire(NOW)
    assert first.api.calls >= 2  # the tab's id and the tab made, or its cell read and swapped
    second = process()
    assert second.acquire(NOW + timedelta(minutes=2)).expires == NOW + timedelta(minutes=2) + TTL
    assert second.api.calls == 1
    third = process()  # what the second one wrote is kept in turn
    third.acquire(NOW + timedelta(minutes=3))
    assert third.api.calls == 1
    assert process(kept=False).peek().holder == WEB1


def test_another_hosts_lease_is_read_and_obeyed_over_the_kept_text(process: Process) -> None:
    """Web-2 took over after web-1's lease ran out: web-1's next process is refused."""
    process().acquire(NOW)
    later = NOW + TTL + timedelta(seconds=1)
    process(WEB2).acquire(later)
    web1 = process()
    with pytest.raises(LeaseHeld) as refused:
        web1.acquire(later)
    assert refused.value.holder == WEB2
    assert web1.api.calls == 2  # the kept text swapped for nothing, then the cell read
    emulator = shared_emulator()
    httpx.delete(f"{emulator.url}/_emulator/log")
    with pytest.raises(LeaseHeld):
        process().acquire(later)
    calls = httpx.get(f"{emulator.url}/_emulator/log").json()["calls"]
    assert [call["method"] for call in calls] == ["GET", "GET"]  # the stale text was not kept:
    assert "_sheetqueue" in calls[1]["path"]  # the tab's id and its cell read, nothing swapped


def test_a_released_lease_keeps_nothing(process: Process) -> None:
    """A clean stop frees the lease; the next process finds it afresh."""
    first = process()
    first.acquire(NOW)
    first.release()
    second = process()
    second.acquire(NOW + timedelta(seconds=5))
    assert second.api.calls == 3  # the tab's id, its cell, the swap


def test_another_tokens_entry_is_not_used(process: Process) -> None:
    """A holder token made anew (its file lost) does not take the old token's entry as its own."""
    process().acquire(NOW)
    other = process(Holder("token-new", "web-1", 4200))
    with pytest.raises(LeaseHeld):
        other.acquire(NOW + timedelta(seconds=5))
    assert other.api.calls == 2  # the tab's id and the cell: the old token's text not swapped
