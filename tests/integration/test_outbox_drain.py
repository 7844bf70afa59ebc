"""The outbox drain on a real sheet (gspread over HTTP to the emulator): once, whatever happens.

A lost append answer, a drainer killed mid-append, two drainers at once: every
accepted row ends up in the sheet exactly once.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from filelock import FileLock

from sheetqueue.config.clock import utc_now
from sheetqueue.config.errors import StoreError
from sheetqueue.sheets.model import Request
from sheetqueue.sheets.outbox import Outbox
from sheetqueue.sheets.store import LandingUnknown
from sheetqueue.sheets.testing.emulator import Emulator
from tests.factories import make_request
from tests.outbox_kit import appends, eventually, gsheets_cli, new_book, sheet_ids, twice
from tests.store_backends import shared_emulator, store_on

SETTLE = 30.0


def _request(number: int) -> Request:
    return make_request(
        request_id=f"REQ-DRAIN{number:011d}",
        conversation_id=f"conv-{number}",
        order_id=f"ORD-{number:05d}",
    )


@pytest.fixture
def emulator() -> Emulator:
    return shared_emulator()


@pytest.fixture
def book(emulator: Emulator) -> str:
    return new_book(emulator)


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "state.outbox.db", settle=SETTLE)
    yield box
    box.close()


@pytest.mark.parametrize(
    ("land_after", "answer_after"),
    [(1.5, 0.0), (0.0, 1.5)],
    ids=["append-lands-after-the-timeout", "answer-arrives-after-the-timeout"],
)
def test_lost_append_answer_is_waited_out_and_looked_up_never_resent(
    emulator: Emulator, book: str, outbox: Outbox, land_after: float, answer_after: float
) -> None:
    """3 records whose append outlives the 0.5 s timeout become 3 rows: held, then found by ID."""
    for number in range(3):
        outbox.accept(_request(number))
    store = store_on(emulator, book, timeout=0.5)
    emulator.reset_log()
    emulator.slow_appends(1, land_after=land_after, answer_after=answer_after)
    sent = utc_now()
    with pytest.raises(LandingUnknown, match="may still land"):
        outbox.drain(store, sent)
    held = outbox.drain(store, utc_now())
    assert (held.landed, held.appends, held.held) == (0, 0, 3)
    assert held.due_in is not None and 0 < held.due_in <= SETTLE
    eventually(lambda: len(sheet_ids(emulator, book)) == 3, 10, "the slow append lands")
    done = outbox.drain(store, sent + timedelta(seconds=SETTLE + 1))
    store.close()
    assert (done.landed, done.held) == (3, 0)
    ids = sheet_ids(emulator, book)
    assert sorted(ids) == [f"REQ-DRAIN{n:011d}" for n in range(3)]
    assert appends(emulator) == 1
    assert outbox.depth() == 0


def test_append_refused_for_sure_is_sent_again_at_once(
    emulator: Emulator, book: str, outbox: Outbox
) -> None:
    """A 429 on the append means it did not land: the next drain sends it, no waiting."""
    for number in range(2):
        outbox.accept(_request(number))
    store = store_on(emulator, book)
    emulator.set_quota(write_per_minute=0)
    with pytest.raises(StoreError, match="quota") as raised:
        outbox.drain(store, utc_now())
    assert not isinstance(raised.value, LandingUnknown)
    emulator.set_quota()
    drained = outbox.drain(store, utc_now())
    store.close()
    assert (drained.landed, drained.held) == (2, 0)
    assert len(sheet_ids(emulator, book)) == 2


def test_a_second_drainer_skips_while_the_first_holds_the_lock(
    emulator: Emulator, book: str, outbox: Outbox
) -> None:
    """While the drain lock is held elsewhere a drain appends nothing and says it was busy."""
    outbox.accept(_request(1))
    store = store_on(emulator, book)
    with FileLock(outbox.lock_path):
        busy = outbox.drain(store, utc_now())
    assert busy.busy and busy.appends == 0
    assert sheet_ids(emulator, book) == []
    assert outbox.drain(store, utc_now()).landed == 1
    store.close()


def test_two_drainers_on_one_outbox_land_every_row_once(
    emulator: Emulator, book: str, tmp_path: Path
) -> None:
    """Two drainers (own connections and stores) racing while rows arrive: each row once."""
    path = tmp_path / "state.outbox.db"
    accepting = Outbox(path, settle=SETTLE)
    emulator.set_faults(delay=0.01)  # widen the read-then-append window of each drain
    done = threading.Event()
    errors: list[BaseException] = []

    def drainer() -> None:
        box = Outbox(path, settle=SETTLE)
        store = store_on(emulator, book)
        try:
            while not done.is_set():
                box.drain(store, utc_now(), batch_size=7, wait=0.05)
                done.wait(0.005)
            box.drain(store, utc_now(), wait=5)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            store.close()
            box.close()

    threads = [threading.Thread(target=drainer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for number in range(120):
        accepting.accept(_request(number))
    done.set()
    for thread in threads:
        thread.join(60)
    emulator.set_faults()
    assert not errors
    ids = sheet_ids(emulator, book)
    assert twice(ids) == 0
    assert len(ids) == 120
    assert accepting.depth() == 0
    accepting.close()


def test_drainer_killed_mid_append_restarts_without_sending_twice(
    emulator: Emulator, book: str, tmp_path: Path
) -> None:
    """``sheetqueue tick`` SIGKILLed mid-append: the restart holds the rows, then finds them."""
    cli = gsheets_cli(tmp_path, emulator, book, SHEETQUEUE_SHEETS_LANDING_SECONDS=str(int(SETTLE)))
    outbox = Outbox(tmp_path / "state.outbox.db", settle=SETTLE)
    for number in range(40):
        outbox.accept(_request(number))
    emulator.reset_log()
    emulator.slow_appends(1, land_after=2.0)
    tick = cli.popen("tick")
    try:
        eventually(
            lambda: emulator.faults.slow_appends_left == 0, 30, "the tick's append is in flight"
        )
        tick.send_signal(signal.SIGKILL)
    finally:
        tick.communicate(timeout=30)
    again = cli("tick")
    assert again.code == 0, again.stderr
    eventually(lambda: len(sheet_ids(emulator, book)) >= 40, 10, "the killed append lands")
    assert outbox.depth() == 40  # not marked: the restart held them instead of resending
    store = store_on(emulator, book)
    found = outbox.drain(store, utc_now() + timedelta(seconds=SETTLE + 1))
    store.close()
    ids = sheet_ids(emulator, book)
    assert found.landed == 40
    assert (len(ids), twice(ids)) == (40, 0)
    assert appends(emulator) == 1
    outbox.close()
