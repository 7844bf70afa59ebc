"""Settings, policy values and the project's errors, loaded once at the entry point."""

from sheetqueue.config.errors import (
    ConfigError,
    ConflictError,
    InputError,
    LockedError,
    NotFoundError,
    NotifyError,
    OrderSourceError,
    SheetqueueError,
    StoreError,
)
from sheetqueue.config.loading import load_settings
from sheetqueue.config.policy import Policy
from sheetqueue.config.settings import Settings

__all__ = [
    "ConfigError",
    "ConflictError",
    "InputError",
    "LockedError",
    "NotFoundError",
    "NotifyError",
    "OrderSourceError",
    "Policy",
    "Settings",
    "SheetqueueError",
    "StoreError",
    "load_settings",
]
