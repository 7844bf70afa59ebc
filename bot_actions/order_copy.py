"""The last good copy of the Orders tab, so a bot still gets an answer while Sheets is down.

Each successful read of the Orders tab on the bot's path is kept in memory
and written to a file beside the state file (``<state>.orders.json``, mode
0600: it holds what the Orders tab holds), so an API server that restarts
while Sheets is down still answers. An answer built from the copy says so:
:class:`BotOrders` carries the time the copy was read (``as_of``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog

from sheetqueue.config.errors import InputError, SheetqueueError, StoreError
from sheetqueue.sheets.order_sources import RecordsOrderSource
from sheetqueue.sheets.orders import Order, OrderSource, order_from_record
from sheetqueue.sheets.store import Store
from sheetqueue.sheets.times import format_time, parse_time

__all__ = ["BotOrders", "OrderCopy", "read_or_copy", "source_from_records"]

log = structlog.get_logger("sheetqueue.api")


@dataclass(frozen=True)
class BotOrders:
    """Order data for one bot answer: read just now (``as_of`` None) or the last good copy."""

    source: OrderSource
    as_of: datetime | None = None

    @property
    def stale_fields(self) -> dict[str, Any]:
        """``{"stale": true, "as_of": ...}`` for an answer from the copy; nothing otherwise."""
        if self.as_of is None:
            return {}
        return {"stale": True, "as_of": format_time(self.as_of)}


def source_from_records(records: Sequence[Mapping[str, Any]], zone: Any) -> OrderSource:
    """The Orders tab's records as an order source (rows that are not orders skipped)."""
    orders: list[Order] = []
    for record in records:
        try:
            orders.append(order_from_record(record, zone))
        except InputError:
            continue
    return RecordsOrderSource(orders)


class OrderCopy:
    """The copy's file: written whole (temporary file, fsync, rename), read on a restart."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @classmethod
    def beside(cls, state_path: Path) -> OrderCopy:
        return cls(state_path.with_name(f"{state_path.name}.orders.json"))

    def save(self, records: Sequence[Mapping[str, Any]], read_at: datetime) -> None:
        """Keep ``records`` as read at ``read_at``; a failure is logged, never raised."""
        body = json.dumps({"as_of": format_time(read_at), "records": list(records)}, default=str)
        temporary = self.path.with_name(f"{self.path.name}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(body)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except OSError as exc:
            log.warning("orders.copy_not_saved", path=str(self.path), error=str(exc))

    def load(self) -> tuple[list[dict[str, Any]], datetime] | None:
        """The records and when they were read, or None when there is no usable copy."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            records = [dict(record) for record in data["records"]]
            read_at = parse_time(data["as_of"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("orders.copy_unreadable", path=str(self.path), error=str(exc))
            return None
        return (records, read_at) if read_at is not None else None


def read_or_copy(store: Store, copy: OrderCopy, zone: Any, now: datetime) -> BotOrders:
    """The Orders tab read now (and kept as the copy), or the last good copy if it cannot be.

    With no copy either, the StoreError says so.
    """
    try:
        records = store.read_orders()
    except SheetqueueError as exc:
        loaded = copy.load()
        if loaded is None:
            raise StoreError(
                f"{exc.message} (and there is no last good copy of the orders)"
            ) from exc
        log.warning("orders.from_copy", error=exc.message)
        return BotOrders(source_from_records(loaded[0], zone), loaded[1])
    copy.save(records, now)
    return BotOrders(source_from_records(records, zone))
