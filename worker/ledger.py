"""The worker's memory: messages owed to shoppers, and the statuses it last saw.

Kept in SQLite at ``SHEETQUEUE_STATE_PATH``. A message is written here (with
its Message-ID and rendered text) *before* it is sent, and marked sent right
after, so a crash between the two causes at most one resend, with the same
Message-ID. Failed sends are retried on later passes with exponential backoff
until ``notify_max_attempts``, then given up and reported in the sheet.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from sheetqueue.sheets.model import RequestType, Status
from sheetqueue.sheets.sqlite_file import SqliteFile
from sheetqueue.sheets.times import format_time, parse_time
from sheetqueue.worker.notify.message import OutgoingMessage

__all__ = ["FinishedNotice", "Ledger", "NoticeState", "Owed"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS notices (
    request_id TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL,
    state TEXT NOT NULL,              -- a NoticeState: pending | sent | skipped | gave_up
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


class NoticeState(StrEnum):
    """Where one notice stands (the ``state`` column)."""

    PENDING = "pending"  # owed: not carried yet, tried again on a later pass
    SENT = "sent"  # carried by every notifier (or the sheet says it was told)
    SKIPPED = "skipped"  # nothing to carry it to (no address for any notifier)
    GAVE_UP = "gave_up"  # failed notify_max_attempts times; the team is told in the sheet

    @property
    def finished(self) -> bool:
        return self is not NoticeState.PENDING


BACKOFF_GROWTH_CAP = 120  # the longest wait is 120 times the first (an hour by default)


@dataclass(frozen=True)
class Owed:
    """A message the shopper is owed, and the notifiers that already carried it."""

    message: OutgoingMessage
    attempts: int
    delivered: frozenset[str]


@dataclass(frozen=True)
class FinishedNotice:
    """A finished notice, as the ``Notified`` cell reports it."""

    status: str
    state: NoticeState
    finished_at: str
    last_error: str


class Ledger:
    """Notices owed and statuses seen, in the worker's state file."""

    def __init__(self, path: Path, *, timeout: float = 30.0) -> None:
        self.path = path
        self._file = SqliteFile(path, _SCHEMA, setting="SHEETQUEUE_STATE_PATH", timeout=timeout)
        self._write = self._file.write
        self._select = self._file.select

    def owe(self, messages: Sequence[OutgoingMessage], now: datetime) -> None:
        """Record that shoppers must be told (once: a notice already recorded is kept)."""
        if not messages:
            return
        with self._write() as db:
            db.executemany(
                "INSERT OR IGNORE INTO notices (request_id, status, message, state, next_try_at,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        message.request_id,
                        message.status.value,
                        json.dumps(asdict(message)),
                        NoticeState.PENDING.value,
                        format_time(now),
                        format_time(now),
                    )
                    for message in messages
                ],
            )

    def adopt_told(self, request_id: str, statuses: Iterable[Status], now: datetime) -> None:
        """The sheet says these were told already (state lost or another machine): trust it."""
        with self._write() as db:
            db.executemany(
                "INSERT OR IGNORE INTO notices (request_id, status, message, state, next_try_at,"
                " created_at, finished_at) VALUES (?, ?, '{}', ?, ?, ?, ?)",
                [
                    (
                        request_id,
                        s.value,
                        NoticeState.SENT.value,
                        format_time(now),
                        format_time(now),
                        "",
                    )
                    for s in statuses
                ],
            )

    def known(self) -> set[tuple[str, str]]:
        """Every (request, status) the ledger holds, whatever its state."""
        rows = self._select("SELECT request_id, status FROM notices")
        return {(row[0], row[1]) for row in rows}

    def due(self, now: datetime) -> list[Owed]:
        """Pending notices whose next try has come, oldest first."""
        rows = self._select(
            "SELECT message, attempts, delivered, next_try_at FROM notices "
            "WHERE state = ? ORDER BY created_at, request_id",
            (NoticeState.PENDING.value,),
        )
        owed = []
        for message, attempts, delivered, next_try_at in rows:
            when = parse_time(next_try_at)
            if when is not None and when > now:
                continue
            owed.append(Owed(_message(message), attempts, frozenset(json.loads(delivered))))
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
    ) -> NoticeState:
        """Note how a try went; return the notice's new state."""
        attempts = owed.attempts + 1
        carried = sorted(owed.delivered | set(delivered))
        if not error:
            state = NoticeState.SKIPPED if nothing_to_send and not carried else NoticeState.SENT
        elif attempts >= max_attempts:
            state = NoticeState.GAVE_UP
        else:
            state = NoticeState.PENDING
        delay = retry_after * min(2 ** (attempts - 1), BACKOFF_GROWTH_CAP)
        finished = format_time(now) if state.finished else ""
        with self._write() as db:
            db.execute(
                "UPDATE notices SET state = ?, attempts = ?, delivered = ?, last_error = ?,"
                " next_try_at = ?, finished_at = ? WHERE request_id = ? AND status = ?",
                (
                    state.value,
                    attempts,
                    json.dumps(carried),
                    error,
                    format_time(now + delay),
                    finished,
                    owed.message.request_id,
                    owed.message.status.value,
                ),
            )
        return state

    def outcomes(self) -> dict[str, list[FinishedNotice]]:
        """Finished notices per request, in the order they finished."""
        rows = self._select(
            "SELECT request_id, status, state, finished_at, last_error FROM notices "
            "WHERE state != ? ORDER BY finished_at, created_at",
            (NoticeState.PENDING.value,),
        )
        found: dict[str, list[FinishedNotice]] = {}
        for request_id, status, state, finished_at, last_error in rows:
            found.setdefault(request_id, []).append(
                FinishedNotice(status, NoticeState(state), finished_at, last_error)
            )
        return found

    def seen(self) -> dict[str, str]:
        rows = self._select("SELECT request_id, status FROM seen")
        return {row[0]: row[1] for row in rows}

    def remember_seen(self, statuses: dict[str, str]) -> None:
        if not statuses:
            return
        with self._write() as db:
            db.executemany(
                "INSERT INTO seen (request_id, status) VALUES (?, ?) "
                "ON CONFLICT (request_id) DO UPDATE SET status = excluded.status",
                list(statuses.items()),
            )

    def pending_count(self) -> int:
        rows = self._select(
            "SELECT COUNT(*) FROM notices WHERE state = ?", (NoticeState.PENDING.value,)
        )
        return int(rows[0][0])

    def close(self) -> None:
        self._file.close()


def _message(text: str) -> OutgoingMessage:
    data = json.loads(text)
    data["status"] = Status(data["status"])
    kind = data.get("request_type")
    data["request_type"] = RequestType(kind) if kind else None
    return OutgoingMessage(**data)
