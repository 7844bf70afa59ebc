"""The cycle collector waits while a pass reads and decides, and is back when it ends."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from sheetqueue.config.clock import utc_now
from sheetqueue.config.errors import StoreError
from sheetqueue.sheets.sqlite_store import SqliteStore
from sheetqueue.sheets.store import StoredRequest
from sheetqueue.worker.collector import collector_paused
from tests.worker_kit import WorkerKit


class _Watching(SqliteStore):
    """The real SQLite queue, noting whether the collector ran when the pass read it."""

    collector_on_at_read: list[bool]
    fail = False

    def read_requests(self) -> list[StoredRequest]:
        self.collector_on_at_read.append(gc.isenabled())
        if self.fail:
            raise StoreError("the queue could not be read")
        return super().read_requests()


@pytest.fixture
def kit(tmp_path: Path) -> Iterator[WorkerKit]:
    made = WorkerKit(tmp_path, ["log:"], [], {})
    made.store.close()
    watching = _Watching(tmp_path / "queue.db")
    watching.collector_on_at_read = []
    made.store = made.worker.store = watching
    yield made
    made.close()


def test_a_pass_reads_with_the_collector_held_and_gives_it_back(kit: WorkerKit) -> None:
    """During the record step the collector is off; after it, on again."""
    assert gc.isenabled()
    kit.record(utc_now(), type="refund", order_id="ORD-1", email="a@example.com")
    kit.run(utc_now())
    assert isinstance(kit.store, _Watching)
    assert kit.store.collector_on_at_read == [False]
    assert gc.isenabled()


def test_a_pass_that_fails_gives_the_collector_back_too(kit: WorkerKit) -> None:
    """A read that raises leaves the collector as it found it."""
    assert isinstance(kit.store, _Watching)
    kit.store.fail = True
    with pytest.raises(StoreError):
        kit.run(utc_now())
    assert gc.isenabled()


def test_nested_pauses_give_the_collector_back_only_at_the_outermost() -> None:
    """An inner pause ending does not switch the collector on under an outer one."""
    with collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
