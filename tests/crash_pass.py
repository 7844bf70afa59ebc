"""Run one worker pass that SIGKILLs itself at a chosen point.

``python -m tests.crash_pass send N`` dies right after the Nth message is sent:
the SMTP server accepted it, the ledger never heard (``send N tick``: the
pass is a whole ``tick``, pass lease and lock included). ``python -m
tests.crash_pass write`` dies right after the pass's sheet write, before the
ledger learns what that write owes. Same SHEETQUEUE_* environment as the CLI.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence
from typing import Any

from sheetqueue.bootstrap import build_worker, open_store
from sheetqueue.config.clock import utc_now
from sheetqueue.config.loading import load_settings
from sheetqueue.sheets.store import UpdateResult
from sheetqueue.worker.lock import pass_lock
from sheetqueue.worker.notify.message import OutgoingMessage
from sheetqueue.worker.tick import tick


def main() -> None:
    mode = sys.argv[1]
    settings = load_settings()
    store = open_store(settings)
    worker = build_worker(settings, store)
    if mode == "send":
        kill_after = int(sys.argv[2])
        sent = 0
        for notifier in worker.notifiers:
            real_send = notifier.send

            def send(message: OutgoingMessage, _real=real_send) -> None:  # type: ignore[no-untyped-def]
                nonlocal sent
                _real(message)
                sent += 1
                if sent == kill_after:
                    os.kill(os.getpid(), signal.SIGKILL)

            notifier.send = send  # type: ignore[method-assign]
    else:
        real_update = store.update_cells

        def update(updates: Sequence[Any], log: Sequence[Any] = ()) -> UpdateResult:
            result = real_update(updates, log)
            if updates:
                os.kill(os.getpid(), signal.SIGKILL)
            return result

        store.update_cells = update  # type: ignore[method-assign]
    if sys.argv[3:] == ["tick"]:
        tick(worker, utc_now(), pass_lock(settings))
    else:
        worker.run_pass(utc_now())


if __name__ == "__main__":
    main()
