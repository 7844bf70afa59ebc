"""The exceptions of sheetqueue.

Every error the product raises on purpose derives from one root, so the CLI and
the HTTP API can turn it into one readable line::

    SheetqueueError            something went wrong; the message says what to do
    ├── ConfigError            a setting is missing or wrong (exit 2)
    ├── InputError             a request, an argument or a file is invalid (exit 2)
    ├── NotFoundError          an order or request is unknown, or not the caller's (exit 1)
    ├── LockedError            a lookup is locked after too many failed tries (exit 1)
    ├── StoreError             the queue (SQLite file or Google Sheet) could not be used
    │   └── ConflictError      a cell no longer holds what was read; nothing was written
    ├── OrderSourceError       the order data could not be read
    └── NotifyError            a message to a shopper could not be sent

Vendor errors (sqlite3, gspread, requests, smtplib, httpx) never leave their
adapter: they are re-raised as one of these, with the original as the cause.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ConflictError",
    "InputError",
    "LockedError",
    "NotFoundError",
    "NotifyError",
    "OrderSourceError",
    "SheetqueueError",
    "StoreError",
]


class SheetqueueError(Exception):
    """Something went wrong in sheetqueue."""

    exit_code = 1

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.__doc__ or "")

    @property
    def message(self) -> str:
        return str(self)


class ConfigError(SheetqueueError):
    """The configuration is invalid: fix the named setting and start again."""

    exit_code = 2


class InputError(SheetqueueError):
    """The input is invalid: correct the named field and try again."""

    exit_code = 2


class NotFoundError(SheetqueueError):
    """Nothing matches that order number and email; check both and try again."""


class LockedError(SheetqueueError):
    """Too many failed tries: the lookup is locked for this conversation."""


class StoreError(SheetqueueError):
    """The queue could not be read or written; check the backend settings."""


class ConflictError(StoreError):
    """The row changed since it was read; nothing was written."""


class OrderSourceError(SheetqueueError):
    """The order data could not be read; check SHEETQUEUE_ORDERS."""


class NotifyError(SheetqueueError):
    """A message to a shopper could not be sent; it will be tried again."""
