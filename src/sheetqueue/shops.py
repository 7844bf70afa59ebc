"""Many shops from one deployment: one pass of each shop, each built by the one-shop wiring.

A shop is a :class:`~sheetqueue.config.settings.Settings` (the base settings
plus its table in the shops file); its pass is exactly the single-shop pass
(:func:`sheetqueue.worker.tick.tick`) with its own store, ledger, pass lock
and lease. Shops are passed one after the other, or a few at once
(``concurrency``); a shop that fails (its sheet unreachable, a broken header,
a bug) is logged and reported, and the others pass as usual. Every Sheets
call of every shop waits for its token in the bucket of its service account
(:mod:`sheetqueue.sheets.quota`), so all shops of one account together stay
under Google's per-minute quota.

After each pass a shop's outcome is written beside its state file
(``<state_path>.last-pass.json``): when, what it did, its rows by status.
``sheetqueue shops`` lists those without calling Google.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from sheetqueue.archiving import Archiver
from sheetqueue.bootstrap import build_worker, open_lease, open_store
from sheetqueue.config.clock import Clock
from sheetqueue.config.errors import ConfigError, SheetqueueError
from sheetqueue.config.settings import Settings
from sheetqueue.config.shops import Shop, Shops, load_shops
from sheetqueue.sheets.lease import LeaseHeld
from sheetqueue.sheets.model import Status
from sheetqueue.sheets.quota import QuotaBook
from sheetqueue.sheets.times import format_time
from sheetqueue.worker.lock import pass_lock
from sheetqueue.worker.tick import tick

__all__ = [
    "ShopOutcome",
    "ShopPasses",
    "last_pass",
    "shop_settings",
    "shops_from_settings",
    "status_path",
]

log = structlog.get_logger("sheetqueue.shops")


def shops_from_settings(settings: Settings) -> Shops | None:
    """The shops of ``SHEETQUEUE_SHOPS`` (checked), or None for a one-shop deployment."""
    return load_shops(settings.shops, settings) if settings.shops is not None else None


def shop_settings(base: Settings, name: str | None) -> Settings:
    """The settings one command acts with: the named shop's, or the base ones without a file.

    With a shops file the shop must be named (``--shop``) and known; without one,
    naming a shop is a mistake. Every problem is a ConfigError (exit 2) listing
    the shops to choose from.
    """
    shops = shops_from_settings(base)
    if shops is None:
        if name is not None:
            raise ConfigError(
                f"--shop: no shops file (SHEETQUEUE_SHOPS is not set); leave out --shop {name!r}"
            )
        return base
    known = ", ".join(shops.names())
    if name is None:
        raise ConfigError(
            f"--shop: required with SHEETQUEUE_SHOPS ({shops.path}); choose one of {known}"
        )
    for shop in shops.shops:
        if shop.name == name:
            return shop.settings
    raise ConfigError(f"--shop: unknown shop {name!r}; choose one of {known}")


@dataclass
class ShopOutcome:
    """One shop's pass: its counts, or why it did not pass."""

    name: str
    summary: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    error: str = ""
    waiting: str = ""  # another pass or worker holds the shop: not an error

    @property
    def ok(self) -> bool:
        return not self.error

    def document(self) -> dict[str, Any]:
        return {
            "shop": self.name,
            "ok": self.ok,
            **self.summary,
            "open": open_counts(self.statuses),
            "error": self.error or None,
            "waiting": self.waiting or None,
        }


class ShopPasses:
    """Passes every shop of a shops file; one instance lives as long as the worker."""

    def __init__(self, shops: Shops, *, clock: Clock, quota: QuotaBook | None = None) -> None:
        self.shops = shops
        self.clock = clock
        self.quota = quota or QuotaBook(shops.reads_per_minute, shops.writes_per_minute)
        self.archiver = Archiver()

    def run(self, *, wait: float = 0) -> list[ShopOutcome]:
        """One pass of each shop (a bounded pool when ``concurrency`` > 1), in file order."""
        if self.shops.concurrency <= 1 or len(self.shops.shops) == 1:
            return [self.pass_shop(shop, wait=wait) for shop in self.shops.shops]
        with ThreadPoolExecutor(self.shops.concurrency, thread_name_prefix="shop") as pool:
            return list(pool.map(lambda shop: self.pass_shop(shop, wait=wait), self.shops.shops))

    def pass_shop(self, shop: Shop, *, wait: float = 0) -> ShopOutcome:
        """One pass of one shop; whatever goes wrong stays in its outcome."""
        outcome = ShopOutcome(shop.name)
        settings = shop.settings
        try:
            hook = self.quota.account(shop.quota_key).on_call
            store = open_store(settings, quota=hook)
            try:
                worker = build_worker(settings, store, clock=self.clock)
                try:
                    report = tick(worker, self.clock(), pass_lock(settings), wait=wait)
                finally:
                    worker.close()
                if report is None:
                    outcome.waiting = "another pass of this shop is still running"
                else:
                    outcome.summary, outcome.statuses = report.summary(), report.statuses
                    self.archiver.maybe(shop.name, settings, store, self.clock())
            finally:
                store.close()
        except LeaseHeld as held:
            outcome.waiting = f"another worker holds this shop ({held.holder.describe()})"
        except SheetqueueError as error:
            outcome.error = error.message
        except Exception as exc:  # one shop's bug must not stop the others
            outcome.error = f"{type(exc).__name__}: {exc}"
            log.exception("shop.crashed", shop=shop.name)
        if outcome.error:
            log.error("shop.failed", shop=shop.name, error=outcome.error)
        elif outcome.waiting:
            log.warning("shop.waiting", shop=shop.name, reason=outcome.waiting)
        else:
            log.info("shop.passed", shop=shop.name, **outcome.summary)
        _remember(settings, outcome, format_time(self.clock()))
        return outcome

    def release(self) -> None:
        """Hand every shop's lease over at once (a clean stop of the worker)."""
        for shop in self.shops.shops:
            try:
                store = open_store(shop.settings)
                try:
                    lease = open_lease(shop.settings, store)
                    if lease is not None:
                        lease.release()
                finally:
                    store.close()
            except SheetqueueError as error:
                log.warning("shop.lease_not_released", shop=shop.name, error=error.message)


def open_counts(statuses: Mapping[str, int]) -> dict[str, int]:
    """The open rows by status (unknown words count as open: the team must look)."""
    found = {}
    for word, count in statuses.items():
        status = Status.parse(word)
        if status is None or not status.is_closed:
            found[word] = count
    return dict(sorted(found.items()))


def status_path(settings: Settings) -> Path:
    """Where a shop's last pass is written, beside its state file."""
    return settings.state_path.with_name(f"{settings.state_path.name}.last-pass.json")


def last_pass(settings: Settings) -> dict[str, Any]:
    """What the shop's last pass left (empty before its first)."""
    try:
        document = json.loads(status_path(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return document if isinstance(document, dict) else {}


def _remember(settings: Settings, outcome: ShopOutcome, when: str) -> None:
    before = last_pass(settings)
    document = dict(before)
    document["last_attempt"] = when
    document["error"] = outcome.error or None
    document["waiting"] = outcome.waiting or None
    if outcome.ok and not outcome.waiting:
        document.update(last_pass=when, summary=outcome.summary, statuses=outcome.statuses)
    path = status_path(settings)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        spare = path.with_name(f"{path.name}.tmp")
        spare.write_text(json.dumps(document, indent=2), encoding="utf-8")
        os.replace(spare, path)
    except OSError as exc:
        log.warning("shop.status_not_written", path=str(path), error=str(exc))


def totals(outcomes: Sequence[ShopOutcome]) -> dict[str, int]:
    """The counts of every shop added up, as one ``tick`` prints them."""
    summed: dict[str, int] = {"checked": 0, "changed": 0, "notified": 0, "failed": 0}
    for outcome in outcomes:
        for key, value in outcome.summary.items():
            summed[key] = summed.get(key, 0) + value
    return summed
