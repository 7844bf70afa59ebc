"""Fixtures shared by the whole suite: a CLI in a temporary folder, a SQLite store, PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from sheetqueue.sheets.pg_state import migrate
from sheetqueue.sheets.sqlite_store import SqliteStore
from tests.cli_runner import SheetqueueCli
from tests.pg_server import PgServer, PgServerError, start_pg_server
from tests.smtp_server import SmtpServer


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


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1."""
    with SmtpServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _structlog_defaults() -> Iterator[None]:
    """Every test starts from structlog's defaults: an in-process CLI run configures it."""
    yield
    structlog.reset_defaults()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A real PostgreSQL server on 127.0.0.1 for the run; fails, never skips, if it cannot start."""
    try:
        server = start_pg_server()
    except PgServerError as exc:
        pytest.fail(f"the PostgreSQL test server did not start: {exc}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A fresh schema on the test server, migrated: a ``SHEETQUEUE_STATE_URL``."""
    url = pg_server.fresh_schema()
    migrate(url)
    return url
