"""Fixtures shared by the whole suite: a CLI bound to a temporary folder, a SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from sheetqueue.sheets.sqlite_store import SqliteStore
from tests.cli_runner import SheetqueueCli


@pytest.fixture
def cli(tmp_path: Path) -> SheetqueueCli:
    """``sheetqueue`` as a subprocess, with its files in a temporary folder."""
    return SheetqueueCli(tmp_path)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqliteStore]:
    """A fresh embedded store in a temporary file."""
    store = SqliteStore(tmp_path / "queue.db")
    yield store
    store.close()


@pytest.fixture(autouse=True)
def _structlog_defaults() -> Iterator[None]:
    """Every test starts from structlog's defaults: an in-process CLI run configures it."""
    yield
    structlog.reset_defaults()
