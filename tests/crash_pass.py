"""Run one worker pass that dies (os._exit) right after the Nth message is sent.

``python -m tests.crash_pass N`` with the same SHEETQUEUE_* environment as the
CLI. The process ends the way a SIGKILL would end it: after the SMTP server
accepted the message, before the ledger could record it.
"""

from __future__ import annotations

import os
import sys

from sheetqueue.bootstrap import build_worker, open_store
from sheetqueue.config.clock import utc_now
from sheetqueue.config.settings import load_settings
from sheetqueue.worker.notify.base import Notifier
from sheetqueue.worker.notify.message import OutgoingMessage


class _DiesAfter:
    """A notifier that carries each message through ``inner`` and kills the process at ``limit``."""

    sent = 0

    def __init__(self, inner: Notifier, limit: int) -> None:
        self.inner, self.limit, self.name = inner, limit, inner.name

    def skip_reason(self, message: OutgoingMessage) -> str | None:
        return self.inner.skip_reason(message)

    def send(self, message: OutgoingMessage) -> None:
        self.inner.send(message)
        _DiesAfter.sent += 1  # counted across notifiers
        if _DiesAfter.sent == self.limit:
            os._exit(137)

    def check(self) -> None:
        self.inner.check()


def main() -> None:
    kill_after = int(sys.argv[1])
    settings = load_settings()
    store = open_store(settings)
    worker = build_worker(settings, store)
    worker.notifiers = [_DiesAfter(notifier, kill_after) for notifier in worker.notifiers]
    worker.run_pass(utc_now())


if __name__ == "__main__":
    main()
