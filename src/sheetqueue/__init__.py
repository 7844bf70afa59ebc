"""sheetqueue: order requests from a support bot, queued in a shared sheet, checked by a worker.

The package is layered, and imports point one way only::

    sheetqueue.config  <-  sheetqueue.sheets  <-  sheetqueue.worker  <-  sheetqueue.bot_actions
                                                                              ^
    sheetqueue.bootstrap (the composition root), sheetqueue.cli, sheetqueue.demo

``config`` holds settings and policy values; ``sheets`` the data (models, the
store port, the SQLite and Google Sheets stores, order sources); ``worker``
the back office (decisions, the pass, notifiers, the scheduler); and
``bot_actions`` the front desk (recording, lookups, the HTTP API, the outbox).
Only the top layer builds real adapters; everything below takes them in.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("sheetqueue")
except PackageNotFoundError:  # pragma: no cover - running from a tree that was never installed
    __version__ = "0+unknown"
