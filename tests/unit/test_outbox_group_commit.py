"""Group commit: concurrent accepts share one transaction, each answered only once committed."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from sheetqueue.config.errors import InputError, StoreError
from sheetqueue.sheets.outbox import Outbox
from sheetqueue.sheets.sqlite_file import GroupCommit, SqliteFile
from tests.factories import make_request

_SCHEMA = "CREATE TABLE IF NOT EXISTS t (name TEXT PRIMARY KEY);"


@pytest.fixture
def file(tmp_path: Path) -> Iterator[SqliteFile]:
    db = SqliteFile(tmp_path / "g.db", _SCHEMA, setting="test")
    yield db
    db.close()


def _names(path: Path) -> set[str]:
    with sqlite3.connect(path) as other:  # a second connection: only what was committed
        return {str(row[0]) for row in other.execute("SELECT name FROM t")}


def _insert(name: str, fail: bool = False) -> Callable[[sqlite3.Connection], str]:
    def work(db: sqlite3.Connection) -> str:
        db.execute("INSERT INTO t (name) VALUES (?)", (name,))
        if fail:
            raise InputError(f"{name} refused")
        return name

    return work


def _queued(group: GroupCommit, count: int) -> None:
    deadline = time.monotonic() + 10
    while len(group._queue) < count:  # the works waiting for the next group
        assert time.monotonic() < deadline, "the works never queued"
        time.sleep(0.005)


def test_works_queued_during_a_commit_are_committed_together_each_error_its_own(
    file: SqliteFile,
) -> None:
    """Three works wait behind a commit; the one that raises is rolled back alone."""
    group = GroupCommit(file)
    gate, entered = threading.Event(), threading.Event()

    def held(db: sqlite3.Connection) -> str:
        entered.set()
        gate.wait(10)
        return _insert("first")(db)

    with ThreadPoolExecutor(4) as pool:
        leader = pool.submit(group.run, held)
        assert entered.wait(10)  # the leader holds the commit
        followers = [
            pool.submit(group.run, _insert("a")),
            pool.submit(group.run, _insert("bad", fail=True)),
            pool.submit(group.run, _insert("b")),
        ]
        _queued(group, 3)
        assert not any(f.done() for f in followers)  # nobody answered before its commit
        gate.set()
        assert leader.result(10) == "first"
        assert followers[0].result(10) == "a"
        with pytest.raises(InputError, match="bad refused"):
            followers[1].result(10)
        assert followers[2].result(10) == "b"
    assert _names(file.path) == {"first", "a", "b"}


def test_many_threads_accepting_at_once_are_all_stored_and_survive_a_reopen(
    tmp_path: Path,
) -> None:
    """160 accepts from 16 threads: each answered created, each in the file another reader opens."""
    path = tmp_path / "state.outbox.db"
    box = Outbox(path)
    start = threading.Barrier(16)

    def accept_ten(thread: int) -> list[str]:
        start.wait()
        ids = []
        for n in range(10):
            request = make_request(
                request_id=f"REQ-GROUP{thread:03d}{n:05d}", conversation_id=f"g-{thread}-{n}"
            )
            accepted = box.accept(request, idempotency_key=f"key-{thread}-{n}")
            assert accepted.created
            ids.append(accepted.request.request_id)
        return ids

    with ThreadPoolExecutor(16) as pool:
        answered = [i for ids in pool.map(accept_ten, range(16)) for i in ids]
    box.close()
    again = Outbox(path)
    try:
        assert sorted(r.request_id for r in again.waiting(limit=1000)) == sorted(answered)
        assert len(set(answered)) == 160
    finally:
        again.close()


def test_one_idempotency_key_from_many_threads_at_once_stores_one_request(
    tmp_path: Path,
) -> None:
    """Twelve threads send the same key at once: one row, and all twelve get its ID."""
    box = Outbox(tmp_path / "state.outbox.db")
    start = threading.Barrier(12)

    def send(n: int) -> tuple[bool, str]:
        request = make_request(request_id=f"REQ-SAMEKEY{n:08d}", conversation_id="same")
        start.wait()
        accepted = box.accept(request, idempotency_key="one-key")
        return accepted.created, accepted.request.request_id

    try:
        with ThreadPoolExecutor(12) as pool:
            answers = list(pool.map(send, range(12)))
        assert sum(created for created, _ in answers) == 1
        assert len({request_id for _, request_id in answers}) == 1
        assert box.depth() == 1
    finally:
        box.close()


def test_an_event_loop_awaits_the_commit_and_a_caller_that_gives_up_is_still_committed(
    file: SqliteFile,
) -> None:
    """An awaited work answers once committed; one whose waiter was cancelled is committed too."""
    group = GroupCommit(file)
    gate, entered = threading.Event(), threading.Event()

    def held(db: sqlite3.Connection) -> str:
        entered.set()
        gate.wait(10)
        return _insert("held")(db)

    async def scenario() -> str:
        first = asyncio.wrap_future(group.submit(held))
        assert await asyncio.to_thread(entered.wait, 10)
        gave_up = asyncio.wrap_future(group.submit(_insert("gave-up")))
        await asyncio.sleep(0)
        gave_up.cancel()  # its client went away while the group was still committing
        awaited = asyncio.wrap_future(group.submit(_insert("awaited")))
        assert not first.done() and not awaited.done()
        gate.set()
        assert await first == "held"
        return await awaited

    try:
        assert asyncio.run(scenario()) == "awaited"
    finally:
        group.close()
    assert _names(file.path) == {"held", "gave-up", "awaited"}


def test_a_failed_commit_fails_its_group_and_the_next_group_commits(tmp_path: Path) -> None:
    """When the file refuses a commit, its works get StoreError; later works still commit."""
    db = SqliteFile(tmp_path / "g.db", _SCHEMA, setting="test")
    group = GroupCommit(db)
    try:
        assert group.run(_insert("first")) == "first"
        with sqlite3.connect(db.path, timeout=0) as other:  # another process holds the write lock
            other.execute("BEGIN IMMEDIATE")
            db._db.execute("PRAGMA busy_timeout = 50")
            with pytest.raises(StoreError):
                group.run(_insert("while-locked"))
            other.rollback()
        assert group.run(_insert("after")) == "after"
    finally:
        group.close()
        db.close()
    assert _names(tmp_path / "g.db") == {"first", "after"}
