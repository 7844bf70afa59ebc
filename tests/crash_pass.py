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
from sheetqueue.worker.notify.message import OutgoingMessage


def main() -> None:
    kill_after = int(sys.argv[1])
    settings = load_settings()
    store = open_store(settings)
    worker = build_worker(settings, store)
    sent = 0
    for notifier in worker.notifiers:
        real_send = notifier.send

        def send(message: OutgoingMessage, _real=real_send) -> None:  # type: ignore[no-untyped-def]
            nonlocal sent
            _real(message)
            sent += 1
            if sent == kill_after:
                os._exit(137)

        notifier.send = send  # type: ignore[method-assign]
    worker.run_pass(utc_now())


if __name__ == "__main__":
    main()
