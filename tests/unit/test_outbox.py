"""The durable outbox: accepted at once, landed later in batches, never twice, never lost."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from sheetqueue.bot_actions.outbox import Flusher
from sheetqueue.config.clock import utc_now
from sheetqueue.config.errors import InputError, StoreError
from sheetqueue.sheets.model import Request
from sheetqueue.sheets.outbox import Outbox
from tests.api_kit import NOW, SwitchedStore
from tests.factories import make_request


def _request(number: int, **overrides: str) -> Request:
    values = {"request_id": f"REQ-OUTBOX{number:08d}", "conversation_id": f"conv-{number}"}
    values.update(overrides)
    return make_request(**values)


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "state.outbox.db")
    yield box
    box.close()


@pytest.fixture
def sheet(tmp_path: Path) -> SwitchedStore:
    return SwitchedStore(tmp_path / "queue.db")


def test_accepted_request_lands_once_in_one_append(outbox: Outbox, sheet: SwitchedStore) -> None:
    """Many waiting rows go to the store in one add_requests call, and a second flush sends none."""
    for number in range(25):
        assert outbox.accept(_request(number)).created
    store = sheet.open()
    assert outbox.drain(store, NOW).landed == 25
    assert outbox.drain(store, NOW).landed == 0
    store.close()
    assert sheet.appends == [25]
    assert sorted(r.request_id for r in sheet.rows()) == [f"REQ-OUTBOX{n:08d}" for n in range(25)]
    assert outbox.depth() == 0


def test_store_down_keeps_rows_waiting_then_lands_them(
    outbox: Outbox, sheet: SwitchedStore
) -> None:
    """A failing store raises StoreError and loses nothing; once back, every row lands once."""
    for number in range(3):
        outbox.accept(_request(number))
    store = sheet.open()
    sheet.down.set()
    with pytest.raises(StoreError, match="quota"):
        outbox.drain(store, NOW)
    assert outbox.depth() == 3
    sheet.down.clear()
    assert outbox.drain(store, NOW).landed == 3
    store.close()
    assert len(sheet.rows()) == 3


def test_crash_after_append_before_mark_does_not_duplicate(
    tmp_path: Path, sheet: SwitchedStore
) -> None:
    """Rows appended but not marked (a crash) are sent again after restart and land once."""
    first = Outbox(tmp_path / "box.db")
    for number in range(4):
        first.accept(_request(number))
    store = sheet.open()
    store.add_requests(first.waiting())  # the append happened, then the process died
    first.close()
    restarted = Outbox(tmp_path / "box.db")
    assert restarted.depth() == 4
    assert restarted.drain(store, NOW).landed == 4
    store.close()
    restarted.close()
    assert len(sheet.rows()) == 4


def test_repeat_in_same_conversation_gives_first_request(outbox: Outbox) -> None:
    """The same conversation, type and order while waiting is the first request, not a new row."""
    first = outbox.accept(_request(1))
    again = outbox.accept(_request(2, conversation_id="conv-1"))
    assert not again.created
    assert again.request.request_id == first.request.request_id
    assert outbox.depth() == 1


def test_landed_request_is_a_repeat_unless_known_closed(
    outbox: Outbox, sheet: SwitchedStore
) -> None:
    """After landing, a repeat still finds it, unless the queue says it was closed."""
    outbox.accept(_request(1))
    store = sheet.open()
    outbox.drain(store, NOW)
    store.close()
    assert not outbox.accept(_request(2, conversation_id="conv-1")).created
    reopened = outbox.accept(_request(3, conversation_id="conv-1"), closed=lambda _id: True)
    assert reopened.created


def test_idempotency_key_replays_and_refuses_a_different_body(outbox: Outbox) -> None:
    """The same key gives the first request; with a different body it is an InputError."""
    first = outbox.accept(_request(1), idempotency_key="k1", fingerprint="a")
    again = outbox.accept(_request(2), idempotency_key="k1", fingerprint="a")
    assert (again.created, again.request.request_id) == (False, first.request.request_id)
    with pytest.raises(InputError, match="Idempotency-Key"):
        outbox.accept(_request(3), idempotency_key="k1", fingerprint="b")


def test_prune_forgets_only_old_landed_rows(outbox: Outbox, sheet: SwitchedStore) -> None:
    """Landed rows older than the retention are pruned; waiting rows never are."""
    outbox.accept(_request(1))
    store = sheet.open()
    outbox.drain(store, NOW)
    store.close()
    outbox.accept(_request(2))
    assert outbox.prune(NOW + timedelta(days=1)) == 0
    assert outbox.prune(NOW + timedelta(days=8)) == 1
    assert outbox.find("REQ-OUTBOX00000001") is None
    assert outbox.depth() == 1


def test_flusher_thread_rides_out_an_outage(outbox: Outbox, sheet: SwitchedStore) -> None:
    """While the store is down the flusher backs off; when it is back all rows land exactly once."""
    sheet.down.set()
    flusher = Flusher(
        outbox, sheet.open, batch_size=20, interval=0.01, max_backoff=0.05, clock=utc_now
    )
    flusher.start()
    try:
        for number in range(50):
            outbox.accept(_request(number))
        assert not flusher.wait_idle(0.3)
        assert flusher.failures > 0
        sheet.down.clear()
        assert flusher.wait_idle(5)
    finally:
        flusher.stop()
    rows = sheet.rows()
    assert len(rows) == 50 == len({r.request_id for r in rows})
    assert max(sheet.appends) <= 20


def test_flusher_stop_flushes_what_is_left(outbox: Outbox, sheet: SwitchedStore) -> None:
    """Stopping the flusher makes one last flush, so accepted rows are not left behind."""
    flusher = Flusher(outbox, sheet.open, interval=30.0, poll=30.0, clock=utc_now)
    outbox.accept(_request(1))
    flusher.start()
    outbox.accept(_request(2))
    flusher.stop()
    assert {r.request_id for r in sheet.rows()} == {"REQ-OUTBOX00000001", "REQ-OUTBOX00000002"}
