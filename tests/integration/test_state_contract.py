"""One contract for every piece of state, run on the SQLite files and on a real PostgreSQL.

The outbox (idempotency keys, exactly-once drains, lost answers waited out),
the notice ledger and seen statuses, the lookup guard, the sheet's edit
events and the "pass wanted" mark: the same behaviour
whichever implementation the settings choose.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from sheetqueue.config.errors import InputError
from sheetqueue.sheets.model import Request, Status
from sheetqueue.sheets.pg_state import _MIGRATIONS, SCHEMA_VERSION, PgState, migrate
from sheetqueue.sheets.sqlite_store import SqliteStore
from sheetqueue.sheets.store import AddResult, LandingUnknown
from sheetqueue.sheets.team_events import SheetEvent, TeamEvents
from sheetqueue.worker.notice_records import Owed
from tests.api_kit import NOW, SwitchedStore
from tests.factories import make_message, make_request
from tests.outbox_kit import twice
from tests.pg_server import PgServer
from tests.state_kit import StateKit


@pytest.fixture(params=["sqlite", "postgresql"])
def state(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateKit]:
    """Each state implementation, fresh: files in a temporary folder, or a new schema."""
    if request.param == "sqlite":
        kit = StateKit("sqlite", tmp_path)
    else:
        kit = StateKit("postgresql", tmp_path, request.getfixturevalue("pg_url"))
    yield kit
    kit.close()


def _request(number: int) -> Request:
    return make_request(
        request_id=f"REQ-STATE{number:011d}",
        conversation_id=f"conv-{number}",
        order_id=f"ORD-{number:05d}",
    )


class _LostAnswer(SqliteStore):
    """Appends for real, then loses the answer once (as a timed-out Sheets append)."""

    lose = True

    def add_requests(self, requests: Sequence[Request]) -> AddResult:
        result = super().add_requests(requests)
        if self.lose:
            self.lose = False
            raise LandingUnknown("the append's answer never came")
        return result


# -- outbox -------------------------------------------------------------------


def test_a_repeated_idempotency_key_gets_the_first_answer(state: StateKit) -> None:
    """The same key returns the first request; the same key for other text is refused."""
    box = state.outbox()
    first = box.accept(_request(1), idempotency_key="k-1", fingerprint="a")
    again = state.outbox().accept(_request(2), idempotency_key="k-1", fingerprint="a")
    assert first.created and not again.created
    assert again.request.request_id == first.request.request_id
    with pytest.raises(InputError, match="different request"):
        box.accept(_request(3), idempotency_key="k-1", fingerprint="b")
    assert box.depth() == 1


def test_rows_land_once_and_are_found_under_their_queue_id(state: StateKit) -> None:
    """A drain appends every waiting row once; a second drain sends nothing; find says landed."""
    box = state.outbox()
    for number in range(12):
        box.accept(_request(number))
    sheet = SwitchedStore(state.folder / "queue.db")
    store = sheet.open()
    assert box.drain(store, NOW).landed == 12
    assert box.drain(store, NOW).appends == 0
    store.close()
    assert sheet.appends == [12] and box.depth() == 0
    entry = box.find(_request(3).request_id)
    assert entry is not None and entry.landed


def test_a_lost_answer_is_held_then_looked_up_never_appended_twice(state: StateKit) -> None:
    """Rows whose append answer was lost wait out the settle time, then land without a resend."""
    box = state.outbox(settle=90.0)
    for number in range(3):
        box.accept(_request(number))
    store = _LostAnswer(state.folder / "queue.db")
    with pytest.raises(LandingUnknown):
        box.drain(store, NOW)
    held = box.drain(store, NOW + timedelta(seconds=10))
    assert held.appends == 0 and held.held == 3
    assert box.drain(store, NOW + timedelta(seconds=200)).landed == 3
    assert len(store.read_requests()) == 3
    store.close()


def test_four_drainers_racing_land_every_row_once(state: StateKit) -> None:
    """Four drainers (own connections, own stores) while rows arrive: each row appended once."""
    accepting = state.outbox()
    boxes = [state.outbox() for _ in range(4)]
    done = threading.Event()
    errors: list[BaseException] = []
    sheet = SwitchedStore(state.folder / "queue.db")

    def drainer(box: object) -> None:
        assert hasattr(box, "drain")
        store = sheet.open()
        try:
            while not done.is_set():
                box.drain(store, NOW, batch_size=5, wait=0.05)
            box.drain(store, NOW, wait=5)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=drainer, args=(box,)) for box in boxes]
    for thread in threads:
        thread.start()
    for number in range(80):
        accepting.accept(_request(number))
    done.set()
    for thread in threads:
        thread.join(60)
    assert not errors
    ids = [request.request_id for request in sheet.rows()]
    assert len(ids) == 80 and twice(ids) == 0
    assert sum(sheet.appends) == 80  # no row even handed to the store twice
    assert accepting.depth() == 0


# -- ledger -------------------------------------------------------------------


def test_an_owed_notice_is_claimed_by_one_sender_only(state: StateKit) -> None:
    """Staged, then confirmed owed: of two ledgers claiming at once, one carries each notice."""
    first, second = state.ledger(), state.ledger()
    messages = [make_message(request_id=f"REQ-L{n:04d}", status=Status.DONE) for n in range(30)]
    first.stage(messages, NOW)
    assert first.staged() == {(m.request_id, "Done") for m in messages}
    first.settle([(m.request_id, "Done") for m in messages], now=NOW, drop=False)
    claimed: list[list[Owed]] = [[], []]

    def take(index: int) -> None:
        ledger = (first, second)[index]
        claimed[index] = ledger.claim(NOW, NOW + timedelta(minutes=1))

    threads = [threading.Thread(target=take, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    ids = [owed.message.request_id for owed in claimed[0] + claimed[1]]
    assert sorted(ids) == sorted(m.request_id for m in messages)
    assert second.pending_count() == 30


def test_a_sent_notice_is_finished_for_every_reader(state: StateKit) -> None:
    """An attempt recorded by one ledger is what another reads; nothing left to claim."""
    writer, reader = state.ledger(), state.ledger()
    message = make_message(request_id="REQ-SENT", status=Status.DONE)
    writer.settle([], [message], now=NOW, drop=False)
    (owed,) = writer.claim(NOW, NOW + timedelta(minutes=1))
    writer.record_attempt(owed, delivered=["smtp"], error="", now=NOW, max_attempts=5)
    record = reader.records()[("REQ-SENT", "Done")]
    assert record.state == "sent" and record.delivered == ("smtp",)
    assert reader.claim(NOW, NOW + timedelta(minutes=1)) == []


def test_seen_statuses_are_shared_and_overwritten(state: StateKit) -> None:
    """Statuses remembered by one ledger are read by the next; a later status replaces one."""
    state.ledger().remember_seen({"REQ-A": "Pending", "REQ-B": "Eligible"})
    state.ledger().remember_seen({"REQ-A": "Done"})
    assert state.ledger().seen() == {"REQ-A": "Done", "REQ-B": "Eligible"}


def test_staged_notices_no_write_owed_are_dropped(state: StateKit) -> None:
    """drop_staged forgets rendered messages whose sheet write failed."""
    ledger = state.ledger()
    ledger.stage([make_message(request_id="REQ-GONE", status=Status.DONE)], NOW)
    ledger.drop_staged()
    assert ledger.staged() == set() and ledger.pending_count() == 0


# -- lookup guard ---------------------------------------------------------------


def test_failed_lookups_lock_for_every_process_until_the_window_ends(state: StateKit) -> None:
    """Two failures (from two processes) lock the key; a day later it is free; reset unlocks."""
    key = "conversation:c-1"
    assert state.guard().record_failure(key, NOW) == 1
    assert state.guard().record_failure(key, NOW + timedelta(minutes=1)) == 2
    guard = state.guard()
    assert guard.is_locked(key, NOW + timedelta(minutes=2))
    assert not guard.is_locked(key, NOW + timedelta(days=1))
    guard.reset(key)
    assert guard.failures(key, NOW) == 0


def test_concurrent_failures_are_all_counted(state: StateKit) -> None:
    """Ten failures recorded at once from ten guards: the count is ten."""
    guards = [state.guard(max_failures=100) for _ in range(10)]
    threads = [
        threading.Thread(target=guard.record_failure, args=("order:ord-1", NOW)) for guard in guards
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert guards[0].failures("order:ord-1", NOW) == 10


class _Blocking(SqliteStore):
    """An append that waits until released (a slow Sheets append), saying when it started."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.started = threading.Event()
        self.go = threading.Event()
        self.calls = 0

    def add_requests(self, requests: Sequence[Request]) -> AddResult:
        self.calls += 1
        self.started.set()
        assert self.go.wait(30)
        return super().add_requests(requests)


def test_an_append_still_running_past_the_settle_time_is_not_taken_over(
    state: StateKit,
) -> None:
    """While one drainer's append runs, another drainer long after the settle time sends nothing."""
    first, second = state.outbox(settle=10.0), state.outbox(settle=10.0)
    for number in range(4):
        first.accept(_request(number))
    slow = _Blocking(state.folder / "queue.db")
    worker = threading.Thread(target=first.drain, args=(slow, NOW))
    worker.start()
    assert slow.started.wait(30)
    other = _Blocking(state.folder / "queue.db")
    other.go.set()
    late = second.drain(other, NOW + timedelta(minutes=10))
    slow.go.set()
    worker.join(30)
    assert late.appends == 0 and other.calls == 0
    assert len(slow.read_requests()) == 4 and second.depth() == 0
    slow.close()
    other.close()


# -- sheet events -------------------------------------------------------------


def test_each_sheet_event_is_kept_once_across_instances(state: StateKit) -> None:
    """The same event ids from two instances (two hosts): kept once; the rest are duplicates."""
    events = [
        SheetEvent(f"ev-{n}", "REQ-1", "Status", "Done", "sam@shop.example") for n in range(3)
    ]
    first = state.events().record(events[:2], NOW)
    second = state.events().record(events, NOW + timedelta(seconds=1))
    assert [e.event_id for e in first] == ["ev-0", "ev-1"]
    assert [e.event_id for e in second] == ["ev-2"]


def test_the_editor_of_a_status_change_is_found_by_request_and_status(state: StateKit) -> None:
    """Status events name their editor per (request, status); notes and blank editors do not."""
    events = state.events()
    events.record(
        [
            SheetEvent("a", "REQ-1", "Status", "Done", "sam@shop.example"),
            SheetEvent("b", "REQ-2", "Status", "Rejected", ""),
            SheetEvent("c", "REQ-3", "Team Note", "Done", "kim@shop.example"),
        ],
        NOW,
    )
    events.record(
        [SheetEvent("d", "REQ-1", "Status", "Done", "kim@shop.example")], NOW + timedelta(seconds=5)
    )
    found = state.events().editors([("REQ-1", "Done"), ("REQ-2", "Rejected"), ("REQ-3", "Done")])
    assert found == {("REQ-1", "Done"): "kim@shop.example"}


def test_the_pass_wanted_mark_is_seen_by_another_instance_and_cleared(state: StateKit) -> None:
    """One instance asks for a pass, another sees the mark; a pass starting clears it."""
    api, worker = state.events(), state.events()
    assert not worker.pass_wanted()
    api.want_pass(NOW)
    api.want_pass(NOW + timedelta(seconds=1))
    assert worker.pass_wanted()
    worker.clear_pass_wanted()
    assert not worker.pass_wanted() and not api.pass_wanted()


def test_a_version_1_schema_is_migrated_to_keep_sheet_events(pg_server: PgServer) -> None:
    """A database at schema 1 (before sheet events): migrate adds step 2 only; events work."""
    url = pg_server.fresh_schema()
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            "CREATE TABLE sheetqueue_schema (version INTEGER PRIMARY KEY, "
            "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        connection.execute(_MIGRATIONS[0])
        connection.execute("INSERT INTO sheetqueue_schema (version) VALUES (1)")
    assert migrate(url) == (1, SCHEMA_VERSION)
    state = PgState(url, max_size=2)
    try:
        events = TeamEvents(Path("unused"), db=state.db("events"))
        kept = events.record(
            [SheetEvent("e-1", "REQ-1", "Status", "Done", "kim@shop.example")], NOW
        )
        assert len(kept) == 1 and events.editors([("REQ-1", "Done")])
    finally:
        state.close()


def test_sheet_events_older_than_the_keep_time_are_dropped(state: StateKit) -> None:
    """An event kept over two days ago is gone: its id may be kept again (the window refuses it)."""
    events = state.events()
    old = SheetEvent("old-1", "REQ-1", "Status", "Done", "sam@shop.example")
    events.record([old], NOW - timedelta(days=3))
    assert events.record([old], NOW) == [old]
    assert events.record([old], NOW + timedelta(seconds=1)) == []
