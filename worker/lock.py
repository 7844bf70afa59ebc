"""One pass at a time per store: a cron tick and a running worker never overlap."""

from __future__ import annotations

import hashlib
from pathlib import Path

from filelock import FileLock

from sheetqueue.config.settings import Settings

__all__ = ["pass_lock"]


def pass_lock(settings: Settings) -> FileLock:
    """The lock file of the store the settings point at, beside the worker's state."""
    if settings.backend == "local":
        path = Path(f"{settings.local_path}.pass.lock")
    else:
        key = hashlib.sha256(settings.spreadsheet_id.encode()).hexdigest()[:12]
        path = settings.state_path.with_name(f".sheetqueue-{key}.pass.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(path)
