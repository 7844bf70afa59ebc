"""The worker's working copy of its notices: rendered messages, tries, claims.

Kept in SQLite at ``SHEETQUEUE_STATE_PATH``, or in the shared PostgreSQL
state (``SHEETQUEUE_STATE_URL``) when several hosts run workers. It is a cache, not the truth: the
``Notified`` cell in the sheet says what is owed and what was told (see
:mod:`sheetqueue.worker.notified`), and a lost state file is rebuilt from it.

A message is *staged* here (with its Message-ID and rendered text) just before
the sheet write that owes it, and becomes *pending* once the cell says
``owed``. A send step *claims* the pending messages it will try, so two send
steps never carry the same one; a claim left by a process that is gone (or one
that ran out) is void and the message is tried again, with the same
Message-ID. Just before a message is handed to a notifier, that notifier is
marked *in flight* on it (one small write): a void claim that still holds such
a mark means the process died (or ran out) mid-send, so the outcome on that
notifier is unknown; it is recorded as *maybe* delivered and not sent again,
while notifiers never marked still get the message. Failed sends are retried
with exponential backoff until ``notify_max_attempts``, then given up. An
outcome the notifier cannot know (the server took the message but never
answered) is recorded as *maybe* delivered and not tried again on that channel.

The sheet carries the in-flight marks too: just before a send step hands
messages over, their ``Notified`` entries say ``email sending`` (see
:mod:`sheetqueue.worker.inflight`); ``sheet_mark`` says this worker wrote
that mark (its time), so a mark it did not write (another host's, or one from before a
lost state file) is recorded here as *maybe* and never sent again.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from sheetqueue.sheets.sqlite_file import SqliteFile
from sheetqueue.sheets.state_db import StateDb
from sheetqueue.sheets.times import format_time, parse_time
from sheetqueue.worker.notice_claims import claim_held, claimant
from sheetqueue.worker.notice_records import (
    NoticeRecord,
    NoticeState,
    Owed,
    message_from_text,
    message_text,
)
from sheetqueue.worker.notify.message import OutgoingMessage

__all__ = ["Ledger"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS notices (
    request_id TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL,
    state TEXT NOT NULL,              -- a NoticeState: staged | pending | sent | skipped | gave_up
    attempts INTEGER NOT NULL DEFAULT 0,
    next_try_at TEXT NOT NULL,
    delivered TEXT NOT NULL DEFAULT '[]',
    last_error TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    finished_at TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (request_id, status)
);
CREATE TABLE IF NOT EXISTS seen (
    request_id TEXT PRIMARY KEY,
    status TEXT NOT NULL
);
"""
_REMEMBER_SEEN = (
    "INSERT INTO seen (request_id, status) VALUES (?, ?) "
    "ON CONFLICT (request_id) DO UPDATE SET status = excluded.status"
)
_ADDED_COLUMNS = {
    "maybe": "TEXT NOT NULL DEFAULT '[]'",
    "failed": "TEXT NOT NULL DEFAULT '[]'",
    "claimed_until": "TEXT NOT NULL DEFAULT ''",
    "claimed_by": "TEXT NOT NULL DEFAULT ''",
    "in_flight": "TEXT NOT NULL DEFAULT '[]'",  # notifiers handed it under the current claim
    "sheet_mark": "TEXT NOT NULL DEFAULT ''",  # when this worker last wrote its sending mark
}


BACKOFF_GROWTH_CAP = 120  # the longest wait is 120 times the first (an hour by default)


class Ledger:
    """Notices owed and statuses seen, in the worker's state file (or ``db``, when shared)."""

    def __init__(self, path: Path, *, timeout: float = 30.0, db: StateDb | None = None) -> None:
        self.path = path
        if db is not None:
            self._file: StateDb = db
            self._write = db.write
            self._select = db.select
            return
        self._file = SqliteFile(path, _SCHEMA, setting="SHEETQUEUE_STATE_PATH", timeout=timeout)
        self._write = self._file.write
        self._select = self._file.select
        have = {row[1] for row in self._select("PRAGMA table_info(notices)")}
        with self._write() as sqlite:
            for name, kind in _ADDED_COLUMNS.items():
                if name not in have:
                    sqlite.execute(f"ALTER TABLE notices ADD COLUMN {name} {kind}")

    def stage(self, messages: Sequence[OutgoingMessage], now: datetime) -> None:
        """Keep the rendered messages a sheet write is about to owe (a notice kept stays)."""
        if messages:
            with self._write() as db:
                self._insert(db, messages, now, NoticeState.STAGED, {})

    def settle(
        self,
        keys: Iterable[tuple[str, str]],
        rebuilt: Sequence[OutgoingMessage] = (),
        *,
        now: datetime,
        delivered: Mapping[tuple[str, str], Sequence[str]] | None = None,
        maybe: Mapping[tuple[str, str], Sequence[str]] | None = None,
        seen: Mapping[str, str] | None = None,
        told: Sequence[tuple[str, str]] = (),
        drop: bool = True,
    ) -> None:
        """The end of a record step, in one transaction.

        Staged notices the sheet now owes (``keys``) become pending, ``rebuilt``
        ones are added as pending (``delivered``/``maybe``: the notifiers the
        cell says carried, or maybe carried, them), the other staged ones are
        dropped (with ``drop``), pending ones the sheet says are already
        ``told`` (by another worker) are closed, and the statuses ``seen`` are
        remembered.
        """
        keys = list(keys)
        with self._write() as db:
            if told:
                db.executemany(
                    "UPDATE notices SET state = 'sent', finished_at = ?, claimed_until = '',"
                    " in_flight = '[]' WHERE request_id = ? AND status = ? AND state = 'pending'",
                    [(format_time(now), *key) for key in told],
                )
            self._insert(db, rebuilt, now, NoticeState.PENDING, delivered or {}, maybe)
            if keys:
                db.executemany(
                    "UPDATE notices SET state = 'pending' "
                    "WHERE request_id = ? AND status = ? AND state = 'staged'",
                    keys,
                )
            if drop:
                db.execute("DELETE FROM notices WHERE state = 'staged'")
            if seen:
                db.executemany(_REMEMBER_SEEN, list(seen.items()))

    def drop_staged(self) -> None:
        """Forget staged messages no sheet write owed (their row changed meanwhile)."""
        with self._write() as db:
            db.execute("DELETE FROM notices WHERE state = 'staged'")

    def _insert(
        self,
        db: sqlite3.Connection,
        messages: Sequence[OutgoingMessage],
        now: datetime,
        state: NoticeState,
        delivered: Mapping[tuple[str, str], Sequence[str]],
        maybe: Mapping[tuple[str, str], Sequence[str]] | None = None,
    ) -> None:
        if not messages:
            return
        unsure = maybe or {}
        db.executemany(
            "INSERT OR IGNORE INTO notices (request_id, status, message, state, next_try_at,"
            " created_at, delivered, maybe) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    m.request_id,
                    m.notice_word,
                    message_text(m),
                    state.value,
                    format_time(now),
                    format_time(now),
                    json.dumps(sorted(delivered.get((m.request_id, m.notice_word), []))),
                    json.dumps(sorted(unsure.get((m.request_id, m.notice_word), []))),
                )
                for m in messages
            ],
        )

    def records(self) -> dict[tuple[str, str], NoticeRecord]:
        """Every notice past staging, by (request, status)."""
        rows = self._select(
            "SELECT request_id, status, state, attempts, delivered, maybe, failed, last_error,"
            " finished_at, sheet_mark, in_flight FROM notices WHERE state != 'staged'"
        )
        return {
            (row[0], row[1]): NoticeRecord(
                state=NoticeState(row[2]),
                attempts=row[3],
                delivered=tuple(json.loads(row[4])),
                maybe=tuple(json.loads(row[5])),
                failed=tuple(json.loads(row[6])),
                last_error=row[7],
                finished_at=row[8],
                marked=row[9],
                in_flight=tuple(json.loads(row[10])),
            )
            for row in rows
        }

    def staged(self) -> set[tuple[str, str]]:
        rows = self._select("SELECT request_id, status FROM notices WHERE state = 'staged'")
        return {(row[0], row[1]) for row in rows}

    def claim(self, now: datetime, until: datetime) -> list[Owed]:
        """Take the pending notices whose next try has come and no one else holds, oldest first.

        A notice whose void claim still marks notifiers in flight has those
        notifiers recorded as maybe delivered (in ``Owed.recovered``), never resent.
        """
        with self._write() as db:
            rows = db.execute(
                "SELECT request_id, status, message, attempts, delivered, maybe, next_try_at,"
                " claimed_until, claimed_by, in_flight FROM notices WHERE state = 'pending'"
                " ORDER BY created_at, request_id"
            ).fetchall()
            owed: list[Owed] = []
            me = claimant()
            for request_id, status, message, attempts, delivered, maybe, next_try, *claim in rows:
                until_text, by, in_flight = claim
                if claim_held(until_text, by, now):
                    continue
                unsure = set(json.loads(maybe))
                recovered = frozenset(json.loads(in_flight)) - set(json.loads(delivered))
                if recovered:
                    unsure |= recovered
                elif (when := parse_time(next_try)) is not None and when > now:
                    continue
                done = frozenset(json.loads(delivered)) | frozenset(unsure)
                owed.append(Owed(message_from_text(message), attempts, done, recovered))
                db.execute(
                    "UPDATE notices SET claimed_until = ?, claimed_by = ?, maybe = ?,"
                    " in_flight = '[]' WHERE request_id = ? AND status = ?",
                    (format_time(until), me, json.dumps(sorted(unsure)), request_id, status),
                )
        return owed

    def mark_in_flight(self, owed: Owed, notifiers: Sequence[str]) -> None:
        """Say, before handing the message over, which notifiers it is now going to."""
        with self._write() as db:
            db.execute(
                "UPDATE notices SET in_flight = ? WHERE request_id = ? AND status = ?",
                (
                    json.dumps(sorted(notifiers)),
                    owed.message.request_id,
                    owed.message.notice_word,
                ),
            )

    def add_maybe(self, maybe: Mapping[tuple[str, str], Sequence[str]]) -> None:
        """Notifiers that may have carried these pending notices (another worker's mark)."""
        if not maybe:
            return
        with self._write() as db:
            for (request_id, status), names in maybe.items():
                row = db.execute(
                    "SELECT maybe FROM notices WHERE request_id = ? AND status = ?",
                    (request_id, status),
                ).fetchone()
                if row is None:
                    continue
                unsure = sorted(set(json.loads(row[0])) | set(names))
                db.execute(
                    "UPDATE notices SET maybe = ? WHERE request_id = ? AND status = ?",
                    (json.dumps(unsure), request_id, status),
                )

    def mark_sheet(self, keys: Iterable[tuple[str, str]], at: str) -> None:
        """This worker's ``sending`` marks (made at ``at``) for these notices are in the sheet."""
        with self._write() as db:
            db.executemany(
                "UPDATE notices SET sheet_mark = ? WHERE request_id = ? AND status = ?",
                [(at, *key) for key in keys],
            )

    def release(self, owed: Owed) -> None:
        """Give back a claim without trying (the send step ran out of time)."""
        with self._write() as db:
            db.execute(
                "UPDATE notices SET claimed_until = '' WHERE request_id = ? AND status = ?",
                (owed.message.request_id, owed.message.notice_word),
            )

    def due(self, now: datetime) -> list[Owed]:
        """Pending notices whose next try has come (claimed or not), oldest first."""
        rows = self._select(
            "SELECT message, attempts, delivered, maybe, next_try_at FROM notices "
            "WHERE state = 'pending' ORDER BY created_at, request_id"
        )
        owed = []
        for message, attempts, delivered, maybe, next_try_at in rows:
            when = parse_time(next_try_at)
            if when is not None and when > now:
                continue
            done = frozenset(json.loads(delivered)) | frozenset(json.loads(maybe))
            owed.append(Owed(message_from_text(message), attempts, done))
        return owed

    def record_attempt(
        self,
        owed: Owed,
        *,
        delivered: Sequence[str],
        error: str,
        now: datetime,
        max_attempts: int,
        retry_after: timedelta = timedelta(seconds=30),
        nothing_to_send: bool = False,
        maybe: Sequence[str] = (),
        failed: Sequence[str] = (),
    ) -> NoticeState:
        """Note how a try went (and drop the claim); return the notice's new state."""
        attempts = owed.attempts + 1
        key = (owed.message.request_id, owed.message.notice_word)
        rows = self._select(
            "SELECT delivered, maybe FROM notices WHERE request_id = ? AND status = ?", key
        )
        before_sent = set(json.loads(rows[0][0])) if rows else set()
        before_maybe = set(json.loads(rows[0][1])) if rows else set()
        carried = sorted(before_sent | set(delivered))
        unsure = sorted((before_maybe | set(maybe)) - set(carried))
        if not error:
            state = (
                NoticeState.SKIPPED
                if nothing_to_send and not carried and not unsure
                else NoticeState.SENT
            )
        elif attempts >= max_attempts:
            state = NoticeState.GAVE_UP
        else:
            state = NoticeState.PENDING
        delay = retry_after * min(2 ** (attempts - 1), BACKOFF_GROWTH_CAP)
        finished = format_time(now) if state.finished else ""
        with self._write() as db:
            db.execute(
                "UPDATE notices SET state = ?, attempts = ?, delivered = ?, maybe = ?, failed = ?,"
                " last_error = ?, next_try_at = ?, finished_at = ?, claimed_until = '',"
                " in_flight = '[]'"
                " WHERE request_id = ? AND status = ?",
                (
                    state,
                    attempts,
                    json.dumps(carried),
                    json.dumps(unsure),
                    json.dumps(sorted(failed)),
                    error,
                    format_time(now + delay),
                    finished,
                    *key,
                ),
            )
        return state

    def seen(self) -> dict[str, str]:
        rows = self._select("SELECT request_id, status FROM seen")
        return {row[0]: row[1] for row in rows}

    def remember_seen(self, statuses: dict[str, str]) -> None:
        if not statuses:
            return
        with self._write() as db:
            db.executemany(_REMEMBER_SEEN, list(statuses.items()))

    def pending_count(self) -> int:
        rows = self._select("SELECT COUNT(*) FROM notices WHERE state IN ('pending', 'staged')")
        return int(rows[0][0])

    def close(self) -> None:
        self._file.close()
