"""``maildir:PATH``: the embedded default, each message a file in a Maildir.

The directory (with ``new/``, ``cur/`` and ``tmp/``) is created when missing.
A message's file name is derived from its Message-ID, so writing the same
message twice (a retry after a crash) leaves one file. Any mail client or
``mailbox.Maildir`` can read the result.
"""

from __future__ import annotations

import hashlib
import mailbox
import os
from pathlib import Path

from sheetqueue.config.clock import Clock
from sheetqueue.config.errors import NotifyError
from sheetqueue.worker.notify.base import log_event, skipped
from sheetqueue.worker.notify.message import OutgoingMessage, as_email, email_problem

__all__ = ["MaildirNotifier"]


class MaildirNotifier:
    """Writes messages into the Maildir at ``path``."""

    def __init__(self, path: Path, *, clock: Clock) -> None:
        self.path = Path(path)
        self.name = f"maildir:{self.path}"
        self._clock = clock

    def skip_reason(self, message: OutgoingMessage) -> str | None:
        return email_problem(message.to_email)

    def send(self, message: OutgoingMessage) -> None:
        if skipped(self, message) is not None:
            return
        key = "sq-" + hashlib.sha256(message.message_id.encode()).hexdigest()[:24]
        try:
            box = self._open()
            if key in box:
                log_event("notify.duplicate", self, message, key=key)
                return
            data = as_email(message, date=self._clock()).as_bytes()
            self._write(key, data)
        except (OSError, mailbox.Error, ValueError) as exc:
            raise NotifyError(f"{self.name}: cannot write the message: {exc}") from exc
        log_event("notify.sent", self, message, key=key)

    def check(self) -> None:
        """Create the Maildir if needed and prove a file can be written in it."""
        probe = self.path / "tmp" / f"sq-check.{os.getpid()}"
        try:
            self._open()
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise NotifyError(f"{self.name}: the directory is not writable: {exc}") from exc

    def _open(self) -> mailbox.Maildir:
        # made here, not by mailbox: its check-then-create races between concurrent sends
        for folder in ("tmp", "new", "cur"):
            (self.path / folder).mkdir(parents=True, exist_ok=True)
        return mailbox.Maildir(self.path, create=True)

    def _write(self, key: str, data: bytes) -> None:
        """Write to tmp/, then link into new/ so a reader never sees half a message."""
        temp = self.path / "tmp" / f"{key}.{os.getpid()}"
        with temp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temp, self.path / "new" / key)
        except FileExistsError:
            pass  # another writer stored the same message first
        finally:
            temp.unlink(missing_ok=True)
