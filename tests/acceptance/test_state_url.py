"""``SHEETQUEUE_STATE_URL``: migrate, check, refusals in one line, and the pass lock across hosts.

Every run is the ``sheetqueue`` command as a subprocess against a real
PostgreSQL server on 127.0.0.1; "hosts" are separate working folders (their
own state files) naming the same database.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import psycopg

from sheetqueue.sheets.pg_state import SCHEMA_VERSION
from tests.cli_runner import SheetqueueCli
from tests.outbox_kit import eventually
from tests.pg_server import PgServer, free_port


def _host(tmp_path: Path, name: str, url: str) -> SheetqueueCli:
    folder = tmp_path / name
    folder.mkdir()
    return SheetqueueCli(
        folder,
        SHEETQUEUE_STATE_URL=url,
        SHEETQUEUE_LOCAL_PATH=str(tmp_path / "queue.db"),  # one queue, two hosts' state files
        SHEETQUEUE_ORDERS="file:" + str(tmp_path / "orders.json"),
        SHEETQUEUE_INTERVAL_SECONDS="1",
    )


def _one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip() and "ok " not in line[:6]]
    assert len(lines) == 1, text
    return lines[0]


def test_migrate_creates_the_schema_once_and_check_passes(
    tmp_path: Path, pg_server: PgServer
) -> None:
    """migrate applies every version, a second run has nothing to do, check reports the state."""
    host = _host(tmp_path, "a", pg_server.fresh_schema())
    (tmp_path / "orders.json").write_text("[]")
    first = host("migrate")
    assert first.code == 0, first.stderr
    assert f"version 0 -> {SCHEMA_VERSION}" in first.stdout
    again = host("migrate")
    assert again.code == 0 and "already current" in again.stdout
    checked = host("check")
    assert checked.code == 0, checked.stdout + checked.stderr
    assert "PostgreSQL, schema current" in checked.stdout


def test_an_unmigrated_schema_is_refused_with_the_command_to_run(
    tmp_path: Path, pg_server: PgServer
) -> None:
    """tick on an empty database: exit 2, one line saying to run sheetqueue migrate."""
    host = _host(tmp_path, "a", pg_server.fresh_schema())
    result = host("tick")
    assert result.code == 2
    assert "run `sheetqueue migrate`" in _one_line(result.stderr)


def test_a_newer_schema_is_refused_by_every_command(tmp_path: Path, pg_server: PgServer) -> None:
    """A schema version this sheetqueue does not know: tick and migrate refuse, naming the fix."""
    url = pg_server.fresh_schema()
    host = _host(tmp_path, "a", url)
    assert host("migrate").code == 0
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("INSERT INTO sheetqueue_schema (version) VALUES (99)")
    for command in ("tick", "migrate", "serve"):
        result = host(command)
        assert result.code == 2, (command, result.stderr)
        line = _one_line(result.stderr)
        assert f"version 99, newer than this sheetqueue's ({SCHEMA_VERSION})" in line
        assert "pip install --upgrade sheetqueue" in line


def test_an_unreachable_server_is_one_line_and_no_local_fallback(tmp_path: Path) -> None:
    """Nothing listens at the URL: exit 2, one line naming host and port, never the password."""
    port = free_port()
    url = f"postgresql://sq:s3cret-pw@127.0.0.1:{port}/state"
    host = _host(tmp_path, "a", url)
    for command in ("tick", "check", "serve", "migrate"):
        result = host(command)
        assert result.code == 2, (command, result.stdout, result.stderr)
        line = _one_line(result.stdout if command == "check" else result.stderr)
        assert f"cannot use PostgreSQL at 127.0.0.1:{port}/state" in line
        assert "s3cret-pw" not in result.stderr + result.stdout
    assert not (host.workdir / "state.db").exists()
    assert not (host.workdir / "state.outbox.db").exists()


def test_a_url_that_is_not_postgresql_is_bad_configuration(tmp_path: Path) -> None:
    """SHEETQUEUE_STATE_URL=mysql://...: exit 2, the setting named."""
    host = _host(tmp_path, "a", "mysql://db/state")
    result = host("tick")
    assert result.code == 2
    assert "SHEETQUEUE_STATE_URL: must be a postgresql:// URL" in _one_line(result.stderr)


def test_one_worker_passes_across_hosts_and_a_killed_one_hands_over_at_once(
    tmp_path: Path, pg_url: str
) -> None:
    """Host A's worker holds the pass lock; host B's tick is refused; A SIGKILLed: B passes."""
    (tmp_path / "orders.json").write_text("[]")
    host_a, host_b = _host(tmp_path, "a", pg_url), _host(tmp_path, "b", pg_url)
    worker = host_a.popen("worker")
    try:
        with psycopg.connect(pg_url, autocommit=True) as connection:

            def holds() -> bool:
                row = connection.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                ).fetchone()
                return bool(row and row[0])

            eventually(holds, 30, "host A's worker takes the pass lock")
        refused = host_b("tick")
        assert refused.code == 1
        assert "another worker runs passes on this queue" in refused.stderr
        worker.send_signal(signal.SIGKILL)
        worker.communicate(timeout=10)
        started = time.monotonic()
        passed = host_b("tick")
        assert passed.code == 0, passed.stderr
        assert time.monotonic() - started < 30  # no lease to wait out: the session is gone
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate(timeout=10)
