"""The composition root: the real store, order source, notifiers, clock and API from settings.

The command line calls these; tests build the same parts with their own
settings (a SQLite file in a temporary folder, the Sheets emulator's URL) or
hand in their own. Nothing here runs at import time, and nothing below this
module builds a real adapter by itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sheetqueue.config.clock import Clock, utc_now
from sheetqueue.config.errors import ConfigError
from sheetqueue.config.settings import Settings
from sheetqueue.config.shops import Shops
from sheetqueue.sheets.archive_shelf import ArchiveShelf
from sheetqueue.sheets.lease import PassLease, SqliteLease, holder_for_state, lease_ttl
from sheetqueue.sheets.order_sources import open_order_source
from sheetqueue.sheets.outbox import open_outbox
from sheetqueue.sheets.store import Store
from sheetqueue.sheets.team_events import TeamEvents
from sheetqueue.worker.ledger import Ledger
from sheetqueue.worker.metrics import Metrics
from sheetqueue.worker.notify.factory import notifiers_from_settings
from sheetqueue.worker.notify.team import with_team_alerts
from sheetqueue.worker.tick import Worker

if TYPE_CHECKING:
    from fastapi import FastAPI

    from sheetqueue.bot_actions.lookup_guard import LookupGuard
    from sheetqueue.sheets.gsheets_api import SheetsApi
    from sheetqueue.sheets.gsheets_retry import Backoff
    from sheetqueue.sheets.kept_entries import KeptEntries
    from sheetqueue.sheets.pg_state import PgState
    from sheetqueue.sheets.state_db import StateDb

__all__ = [
    "ARCHIVE_SETTING",
    "build_api",
    "build_shops_api",
    "build_worker",
    "keep_sheet_metadata",
    "open_archive_api",
    "open_guard",
    "open_lease",
    "open_shared_state",
    "open_shelf",
    "open_store",
    "open_team_events",
    "store_probe",
    "tune_allocator",
]


API_READ_TIMEOUT = 10.0
"""Seconds the API's own Sheets reads may take (a bot's answer never waits that long)."""
CHECK_TIMEOUT = 5.0
"""Seconds ``sheetqueue check`` waits for each Sheets call, tried once (fails fast)."""
CLI_READ_TIMEOUT = 2.5
"""Seconds the ``lookup`` and ``eligibility`` commands wait for Sheets before using the copy."""


def open_store(
    settings: Settings,
    metrics: Metrics | None = None,
    *,
    read_timeout: float | None = None,
    quota: Callable[[str, bool], None] | None = None,
) -> Store:
    """The queue the settings point at: the SQLite file or the Google Sheet.

    ``read_timeout``: for a bot's reads, each Sheets call times out within it and
    is tried once (the answer falls back to the last good copy of the orders).
    ``quota``: told of each Sheets call before it is sent, and may wait (many shops
    sharing one account's per-minute quota).
    """
    if settings.backend == "gsheets":
        from sheetqueue.sheets.gsheets_store import GsheetsStore  # gspread only when used

        hook = _both(quota, metrics.sheets_hook() if metrics is not None else None)
        alert = None
        if metrics is not None:
            alert = lambda reason: metrics.inc("sheetqueue_sheet_alerts_total", reason=reason)  # noqa: E731
        quick, backoff = _tried_once_within(settings, read_timeout)
        store = GsheetsStore.from_settings(quick, backoff=backoff, on_call=hook, on_alert=alert)
        if metrics is not None:
            store.api.on_throttled = metrics.throttled_hook()
        return store
    from sheetqueue.sheets.sqlite_store import SqliteStore

    return SqliteStore(settings.local_path)


def _both(
    first: Callable[[str, bool], None] | None, second: Callable[[str, bool], None] | None
) -> Callable[[str, bool], None] | None:
    if first is None or second is None:
        return first or second

    def hook(kind: str, retried: bool) -> None:
        first(kind, retried)
        second(kind, retried)

    return hook


PROBE_TIMEOUT = 5.0
"""Seconds a readiness probe of the store may take."""


def store_probe(settings: Settings, metrics: Metrics | None = None) -> Callable[[], None]:
    """A cheap call that reaches the store, for readiness (the sheet's metadata, one try)."""
    opened: list[Store] = []

    def probe() -> None:
        if not opened:
            opened.append(open_store(settings, metrics, read_timeout=PROBE_TIMEOUT))
        store = opened[0]
        api = getattr(store, "api", None)
        if api is not None:
            api.metadata()
        else:
            store.read_requests()

    return probe


MMAP_THRESHOLD_BYTES = 128 * 1024
"""Blocks from this size up are mapped on their own and given back when freed (glibc)."""
_M_TRIM_THRESHOLD = -1  # mallopt(3) parameter numbers, from glibc's <malloc.h>
_M_MMAP_THRESHOLD = -3
_tuned: list[bool] = []


def tune_allocator() -> bool:
    """Fix glibc malloc's mmap and trim thresholds at their starting value (once per process).

    glibc raises its mmap threshold each time a mapped block is freed, up to
    32 MB: after the first pass, the next pass's large blocks (the Sheets
    answer's bytes and text, the row lists' arrays) are carved from the heap,
    which is not given back while anything above them lives, so each pass
    peaked higher than the last. Setting the thresholds with ``mallopt(3)``
    turns that adjustment off. True when applied; False where the C library
    has no ``mallopt`` (not glibc), where nothing changes.
    """
    if _tuned:
        return _tuned[0]
    applied = False
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        pass
    else:
        mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        mallopt.restype = ctypes.c_int
        applied = bool(
            mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
            and mallopt(_M_TRIM_THRESHOLD, MMAP_THRESHOLD_BYTES)
        )
    _tuned.append(applied)
    return applied


def build_worker(
    settings: Settings, store: Store, metrics: Metrics | None = None, *, clock: Clock = utc_now
) -> Worker:
    """The worker with the real ledger, order source, notifiers and the outbox it drains.

    A Google store keeps its metadata in the state file too (:func:`keep_sheet_metadata`).
    """
    tune_allocator()
    keep_sheet_metadata(settings, store)
    return Worker(
        store=store,
        order_source=lambda: open_order_source(settings, store),
        notifiers=with_team_alerts(notifiers_from_settings(settings, clock=clock), settings),
        ledger=Ledger(settings.state_path, db=_state_db(settings, "ledger")),
        settings=settings,
        metrics=metrics,
        outbox=open_outbox(settings, _state_db(settings, "outbox")),
        lease=open_lease(settings, store),
        team_events=open_team_events(settings),
    )


def keep_sheet_metadata(settings: Settings, store: Store) -> None:
    """A Google store keeps the queue tab's metadata in the state file, for the next process."""
    from sheetqueue.sheets.gsheets_store import GsheetsStore

    kept = _kept_entries(settings, store, "metadata")
    if kept is not None and isinstance(store, GsheetsStore):
        store.keep_metadata(kept)


def _kept_entries(settings: Settings, store: Store, kind: str) -> KeptEntries | None:
    """Where a Google store keeps entries of ``kind`` for the next process: the state file.

    With shared PostgreSQL state they go in the local state file only when
    ``SHEETQUEUE_STATE_PATH`` is set (it is this host's own cache); else nowhere.
    """
    from sheetqueue.sheets.gsheets_store import GsheetsStore
    from sheetqueue.sheets.kept_entries import KeptEntries

    if settings.backend != "gsheets" or not isinstance(store, GsheetsStore):
        return None
    if settings.state_url.get_secret_value() and "state_path" not in settings.model_fields_set:
        return None
    return KeptEntries(settings.state_path, store.api.spreadsheet_id, kind)


def open_team_events(settings: Settings) -> TeamEvents:
    """The sheet's edit events and the "pass wanted" mark: in the state file or shared state."""
    return TeamEvents(settings.state_path, db=_state_db(settings, "events"))


_PG_LEASES: dict[tuple[str, str], PassLease] = {}


def open_lease(settings: Settings, store: Store) -> PassLease | None:
    """The pass lease kept in the store, held by this installation (its state file).

    None for a store that is neither the sheet nor the local file (a test's own).
    """
    holder = holder_for_state(settings.state_path)
    ttl = lease_ttl(settings.interval_seconds, settings.lease_seconds)
    url = settings.state_url.get_secret_value()
    if url:  # several hosts: a session advisory lock on the queue's key
        from sheetqueue.sheets.pg_state import PgPassLease

        open_shared_state(settings)
        key = settings.spreadsheet_id if settings.backend == "gsheets" else str(settings.local_path)
        name = f"{settings.backend}:{key}"
        lease = _PG_LEASES.get((url, name))  # one session per process: kept across passes
        if lease is None:
            lease = _PG_LEASES[(url, name)] = PgPassLease(url, name, holder, ttl)
        return lease
    if settings.backend == "gsheets":
        from sheetqueue.sheets.gsheets_lease import GsheetsLease
        from sheetqueue.sheets.gsheets_store import GsheetsStore

        if not isinstance(store, GsheetsStore):
            return None
        return GsheetsLease(store.api, holder, ttl, kept=_kept_entries(settings, store, "lease"))
    return SqliteLease(settings.local_path, holder, ttl)


def build_api(
    settings: Settings, metrics: Metrics, *, clock: Clock = utc_now, **options: Any
) -> FastAPI:
    """The bot-facing HTTP API on the store and order data the settings name.

    ``options`` go to :func:`~sheetqueue.bot_actions.api.create_app` (tests shorten ages).
    """
    from sheetqueue.bot_actions.api import create_app  # FastAPI only when serving
    from sheetqueue.bot_actions.api.ratelimit import SharedRateLimiter

    rates = _state_db(settings, "rate")
    return create_app(
        settings,
        store_opener=lambda: open_store(settings, metrics),
        outbox=open_outbox(settings, _state_db(settings, "outbox")),
        guard=open_guard(settings),
        limiter=SharedRateLimiter(settings.lookup_rate_per_minute, rates) if rates else None,
        reads_opener=lambda: open_store(settings, metrics, read_timeout=API_READ_TIMEOUT),
        metrics=metrics,
        clock=clock,
        events_opener=lambda: open_team_events(settings),
        **options,
    )


ARCHIVE_SETTING = "SHEETQUEUE_ARCHIVE_SPREADSHEET_ID"


def _tried_once_within(
    settings: Settings, timeout: float | None
) -> tuple[Settings, Backoff | None]:
    """Settings and backoff for Sheets calls that each time out within ``timeout``, tried once.

    ``None``: the settings' own timeout and the usual retries.
    """
    if timeout is None:
        return settings, None
    from sheetqueue.sheets.gsheets_retry import Backoff

    quick = min(settings.sheets_timeout_seconds, timeout)
    return settings.model_copy(update={"sheets_timeout_seconds": quick}), Backoff(max_tries=1)


def open_archive_api(
    settings: Settings,
    *,
    timeout: float | None = None,
    on_call: Callable[[str, bool], None] | None = None,
) -> SheetsApi | None:
    """The calls on the other spreadsheet archived into (same credentials), or None.

    None when ``archive_spreadsheet_id`` is unset or names the queue's own
    spreadsheet. ``timeout``: each call times out within it and is tried once.
    ``on_call``: told of each call, as the store's own (quota, metrics).
    """
    key = settings.archive_spreadsheet_id
    if not key or key == settings.spreadsheet_id:
        return None
    if settings.backend != "gsheets":
        raise ConfigError(
            f"{ARCHIVE_SETTING}: needs SHEETQUEUE_BACKEND=gsheets "
            "(the local store archives into its own file)"
        )
    from sheetqueue.sheets.gsheets_api import SheetsApi, open_client

    settings, backoff = _tried_once_within(settings, timeout)
    client, sign_in = open_client(settings)
    return SheetsApi(
        client,
        key,
        backoff=backoff,
        on_call=on_call,
        sign_in=sign_in,
        setting=f"{ARCHIVE_SETTING} or --to-spreadsheet",
    )


def build_shops_api(
    shops: Shops,
    *,
    clock: Clock = utc_now,
    pass_now: Callable[[], None] | None = None,
    **options: Any,
) -> FastAPI:
    """The HTTP API of every shop of the shops file: each shop's own API under /shops/<name>.

    Each shop's app is :func:`build_api` on that shop's settings, with its own
    metrics and a readiness that probes its store; ``pass_now`` asks the
    process's worker (every shop's pass) for a pass now.
    """
    from sheetqueue.bot_actions.api.shops import mount_shops
    from sheetqueue.worker.health import Readiness

    apps: dict[str, FastAPI] = {}
    readiness: dict[str, Readiness] = {}
    for shop in shops.shops:
        metrics = Metrics()
        ready = Readiness(
            metrics,
            clock=clock,
            probe=store_probe(shop.settings, metrics),
            max_missed=shop.settings.ready_missed_passes,
        )
        readiness[shop.name] = ready
        apps[shop.name] = build_api(
            shop.settings, metrics, clock=clock, readiness=ready, pass_now=pass_now, **options
        )
    return mount_shops(apps, readiness)


def open_shelf(settings: Settings, store: Store) -> ArchiveShelf:
    """Where closed rows are archived: the sheet's archive tabs or the file's archive table.

    With ``archive_spreadsheet_id`` the archive tabs are another spreadsheet's.
    """
    on_call = getattr(getattr(store, "api", None), "on_call", None)
    archive = open_archive_api(settings, on_call=on_call)
    if settings.backend == "gsheets":
        from sheetqueue.sheets.gsheets_archive import GsheetsShelf
        from sheetqueue.sheets.gsheets_store import GsheetsStore

        if not isinstance(store, GsheetsStore):
            raise TypeError("a Google Sheets shelf needs the Google Sheets store")
        return GsheetsShelf(store, archive)
    from sheetqueue.sheets.sqlite_archive import SqliteShelf

    return SqliteShelf(settings.local_path)


def open_shared_state(settings: Settings) -> PgState | None:
    """The PostgreSQL state the settings name (checked: reachable, schema current), or None.

    Raises ConfigError (exit 2, one line) when it cannot be used: never falls back
    to the local state file.
    """
    url = settings.state_url.get_secret_value()
    if not url:
        return None
    from sheetqueue.sheets.pg_state import PgState  # psycopg only when used

    return PgState.shared(url)


def _state_db(settings: Settings, piece: str) -> StateDb | None:
    state = open_shared_state(settings)
    return state.db(piece) if state is not None else None


def open_guard(settings: Settings) -> LookupGuard:
    """The lookup guard: in the state file, or in the shared state."""
    from sheetqueue.bot_actions.lookup_guard import LookupGuard

    return LookupGuard.from_settings(settings, db=_state_db(settings, "lookup"))
