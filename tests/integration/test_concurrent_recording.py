"""Several processes recording at once lose nothing and duplicate nothing."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from sheetqueue.bot_actions.record import parse_new_request, record_request
from sheetqueue.sheets.sqlite_store import SqliteStore
from tests.factories import day

WORKERS = 4
PER_WORKER = 100


def _record_batch(path: str, worker: int) -> list[str]:
    store = SqliteStore(Path(path))
    ids = []
    for n in range(PER_WORKER):
        new = parse_new_request(
            {
                "type": "return",
                "order_id": f"ORD-{worker}-{n}",
                "email": f"shopper{n}@example.com",
                "conversation_id": f"conv-{worker}-{n}",
            }
        )
        ids.append(record_request(store, new, day(0)).request_id)
    store.close()
    return ids


def _run_all(path: Path) -> list[str]:
    context = multiprocessing.get_context("spawn")
    with context.Pool(WORKERS) as pool:
        batches = pool.starmap(_record_batch, [(str(path), w) for w in range(WORKERS)])
    return [request_id for batch in batches for request_id in batch]


def test_four_processes_record_400_rows_once(tmp_path: Path) -> None:
    """4 x 100 at once: 400 rows, 400 IDs; the same 400 again: still 400."""
    path = tmp_path / "queue.db"
    SqliteStore(path).close()
    first = _run_all(path)
    store = SqliteStore(path)
    rows = store.read_requests()
    assert len(rows) == WORKERS * PER_WORKER
    assert len({row.request.request_id for row in rows}) == WORKERS * PER_WORKER
    second = _run_all(path)
    assert sorted(second) == sorted(first)
    assert len(store.read_requests()) == WORKERS * PER_WORKER
    store.close()
