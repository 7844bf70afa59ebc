"""Open each store implementation for the shared contract tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from sheets.sqlite_store import SqliteStore
from sheets.store import Store

__all__ = ["open_backend"]


@contextmanager
def open_backend(name: str, tmp_path: Path) -> Iterator[Store]:
    """An empty store of the named kind."""
    if name == "sqlite":
        store = SqliteStore(tmp_path / "queue.db")
        try:
            yield store
        finally:
            store.close()
        return
    pytest.skip(f"the {name} store is not built yet")
