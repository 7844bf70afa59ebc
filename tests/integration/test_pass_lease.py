"""The pass lease: one holder per store, taken with a compare-and-set, expiring on its own."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sheetqueue.sheets.gsheets_api import SheetsApi
from sheetqueue.sheets.gsheets_lease import LEASE_TAB, GsheetsLease
from sheetqueue.sheets.lease import (
    Holder,
    LeaseHeld,
    LeaseState,
    PassLease,
    SqliteLease,
    claim,
    holder_for_state,
)
from sheetqueue.sheets.model import CANONICAL_HEADER
from sheetqueue.sheets.testing.emulator import Emulator, emulator_client
from tests.store_backends import no_sleep_backoff, shared_emulator

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
TTL = timedelta(minutes=3)
WEB1 = Holder("token-web1", "web-1", 4123)
WEB2 = Holder("token-web2", "web-2", 977)

LeaseOpener = Callable[[Holder], PassLease]


def _sheet_lease(emulator: Emulator, book: str, holder: Holder) -> GsheetsLease:
    assert emulator.url is not None
    api = SheetsApi(emulator_client(emulator.url, 5.0), book, backoff=no_sleep_backoff())
    return GsheetsLease(api, holder, TTL)


@pytest.fixture(params=["sqlite", "gsheets"])
def open_lease(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LeaseOpener]:
    """Each lease implementation on one fresh store: a function giving a holder's view."""
    if request.param == "sqlite":
        yield lambda holder: SqliteLease(tmp_path / "queue.db", holder, TTL)
        return
    emulator = shared_emulator()
    book = emulator.create_spreadsheet("Queue", {"Requests": [list(CANONICAL_HEADER)]})
    yield lambda holder: _sheet_lease(emulator, book, holder)


# -- the rule, with the clock handed in ----------------------------------------


def test_a_free_lease_is_taken_until_now_plus_ttl() -> None:
    """Nobody holds it: the taker gets it until now + ttl, with the next serial."""
    taken = claim(LeaseState.free(4), WEB1, NOW, TTL)
    assert (taken.holder, taken.expires, taken.serial) == (WEB1, NOW + TTL, 5)


def test_a_live_lease_of_another_holder_is_refused_naming_it() -> None:
    """Held by web-1 until 09:33: web-2 at 09:32:59 is refused, told who and until when."""
    held = claim(LeaseState.free(), WEB1, NOW, TTL)
    with pytest.raises(LeaseHeld) as refused:
        claim(held, WEB2, NOW + TTL - timedelta(seconds=1), TTL)
    assert refused.value.holder == WEB1 and refused.value.expires == NOW + TTL
    assert "host web-1 pid 4123" in refused.value.message
    assert "2026-11-22T09:33:00Z" in refused.value.message


def test_an_expired_lease_is_taken_over() -> None:
    """Once web-1's lease ran out (it stopped renewing), web-2 takes it."""
    held = claim(LeaseState.free(), WEB1, NOW, TTL)
    taken = claim(held, WEB2, NOW + TTL, TTL)
    assert taken.holder == WEB2 and taken.expires == NOW + 2 * TTL


def test_the_holder_renews_its_own_lease_from_another_process() -> None:
    """The same token (a later cron run, another pid) renews without waiting."""
    held = claim(LeaseState.free(), WEB1, NOW, TTL)
    later_run = Holder(WEB1.token, WEB1.host, 5000)
    renewed = claim(held, later_run, NOW + timedelta(minutes=1), TTL)
    assert renewed.holder == later_run and renewed.serial == held.serial + 1


def test_lease_text_round_trips_and_garbage_reads_as_free() -> None:
    """The stored JSON reads back as written; text a person typed counts as a free lease."""
    held = claim(LeaseState.free(), WEB1, NOW, TTL)
    assert LeaseState.parse(held.text()) == held
    assert LeaseState.parse("who knows").holder is None


def test_one_installation_keeps_one_token(tmp_path: Path) -> None:
    """Two processes of one state file are one holder; another state file is another."""
    first = holder_for_state(tmp_path / "a" / "state.db")
    again = holder_for_state(tmp_path / "a" / "state.db")
    other = holder_for_state(tmp_path / "b" / "state.db")
    assert first.token == again.token != other.token


# -- every store keeps the same rules --------------------------------------------


def test_second_holder_is_refused_until_the_first_lease_expires(open_lease: LeaseOpener) -> None:
    """web-1 holds it: web-2 is refused with web-1 named, then takes over after expiry."""
    web1, web2 = open_lease(WEB1), open_lease(WEB2)
    web1.acquire(NOW)
    with pytest.raises(LeaseHeld) as refused:
        web2.acquire(NOW + timedelta(minutes=2))
    assert refused.value.holder == WEB1
    taken = web2.acquire(NOW + TTL + timedelta(seconds=1))
    assert taken.holder == WEB2
    assert web1.peek().holder == WEB2
    with pytest.raises(LeaseHeld) as back:
        web1.acquire(NOW + TTL + timedelta(seconds=2))
    assert back.value.holder == WEB2


def test_renewal_keeps_the_lease_past_the_first_expiry(open_lease: LeaseOpener) -> None:
    """Renewed each pass, the lease never runs out for the other holder."""
    web1, web2 = open_lease(WEB1), open_lease(WEB2)
    for minute in range(0, 10, 2):
        web1.acquire(NOW + timedelta(minutes=minute))
        with pytest.raises(LeaseHeld):
            web2.acquire(NOW + timedelta(minutes=minute + 1))


def test_release_hands_over_at_once(open_lease: LeaseOpener) -> None:
    """A clean stop frees the lease: the other holder takes it without waiting."""
    web1, web2 = open_lease(WEB1), open_lease(WEB2)
    web1.acquire(NOW)
    web1.release()
    assert web1.peek().holder is None
    assert web2.acquire(NOW + timedelta(seconds=1)).holder == WEB2


def test_a_later_run_of_the_same_installation_renews(open_lease: LeaseOpener) -> None:
    """A new process with the same token (cron's next tick) renews what the last one took."""
    open_lease(WEB1).acquire(NOW)
    later = open_lease(Holder(WEB1.token, WEB1.host, 5000))
    assert later.acquire(NOW + timedelta(minutes=1)).expires == NOW + timedelta(minutes=1) + TTL


# -- the sheet: a hidden tab, and a real compare-and-set ------------------------


def test_the_sheet_lease_lives_in_a_hidden_tab() -> None:
    """The first acquire makes a hidden tab holding a label and the lease's JSON."""
    emulator = shared_emulator()
    book = emulator.create_spreadsheet("Queue", {"Requests": [list(CANONICAL_HEADER)]})
    _sheet_lease(emulator, book, WEB1).acquire(NOW)
    label, text = (row[0] for row in emulator.values(book, LEASE_TAB))
    assert "pass lease" in label
    assert LeaseState.parse(text).holder == WEB1
    assert emulator.sheet(book, LEASE_TAB).extra.get("hidden") is True


def _race(emulator: Emulator, book: str, now: datetime, takers: int) -> list[Holder | None]:
    """``takers`` workers acquire at once; for each, itself if it won, else the holder named."""
    barrier = threading.Barrier(takers)
    results: list[Holder | None] = [None] * takers

    def take(number: int) -> None:
        lease = _sheet_lease(emulator, book, Holder(f"token-{now:%M}-{number}", "h", number))
        barrier.wait()
        try:
            results[number] = lease.acquire(now).holder
        except LeaseHeld as held:
            results[number] = held.holder

    threads = [threading.Thread(target=take, args=(n,)) for n in range(takers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_of_racing_takers_exactly_one_wins() -> None:
    """Six workers take a new lease, then an expired one, at the same moment: one wins each time."""
    emulator = shared_emulator()
    book = emulator.create_spreadsheet("Queue", {"Requests": [list(CANONICAL_HEADER)]})
    emulator.set_faults(delay=0.2)  # every call slow: all read the same lease before any swap
    try:
        first = _race(emulator, book, NOW, 6)
        later = _race(emulator, book, NOW + TTL + timedelta(seconds=1), 6)
    finally:
        emulator.set_faults()
    for results in (first, later):
        assert None not in results
        assert len(set(results)) == 1  # everyone agrees on the one winner
    assert first[0] != later[0]
