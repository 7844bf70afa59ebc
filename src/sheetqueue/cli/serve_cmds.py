"""``sheetqueue serve``: the HTTP API for bots, optionally with the worker in the same process.

Without ``SHEETQUEUE_API_TOKEN`` the API answers anyone who can reach it, so
it listens on the loopback interface only: another ``--host`` is refused
(exit 2). Every setting, the address and the port are checked before the
server starts (see ``sheetqueue.preflight``): a problem is one line, exit 2.
SIGTERM or SIGINT stops the server: requests in flight finish, the outbox
makes one last best-effort flush (what it cannot send waits in its file for
the next start), then the worker's pass in flight finishes and the worker
hands its pass lease back, as ``sheetqueue worker`` does. With
``--with-worker`` the process builds one worker (store, ledger, lease) at
start and runs every scheduled pass on it.
"""

from __future__ import annotations

import gc
import ipaddress
import signal
import socket
import sys
import threading
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Protocol

import structlog
import typer

from sheetqueue.bootstrap import build_api, build_shops_api, build_worker, open_store, store_probe
from sheetqueue.cli import app, fail
from sheetqueue.config.clock import utc_now
from sheetqueue.config.errors import ConfigError, SheetqueueError
from sheetqueue.config.loading import load_settings
from sheetqueue.config.logs import configure_logging
from sheetqueue.config.settings import Settings
from sheetqueue.config.shops import Shops
from sheetqueue.preflight import bind, check_settings
from sheetqueue.shops import ShopPasses, shops_from_settings
from sheetqueue.worker.health import Readiness
from sheetqueue.worker.lock import pass_lock
from sheetqueue.worker.metrics import Metrics
from sheetqueue.worker.tick import Worker, tick

if TYPE_CHECKING:
    from fastapi import FastAPI

    from sheetqueue.worker.scheduler import PassNow

log = structlog.get_logger("sheetqueue.serve")


def is_loopback(host: str) -> bool:
    """``127.0.0.1``, ``::1``, ``localhost``: reachable from this machine only."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _ServeWorker:
    """The one worker of a ``serve --with-worker`` process: built at start, closed at stop."""

    def __init__(self, settings: Settings, metrics: Metrics) -> None:
        self.store = open_store(settings, metrics)
        try:
            self.worker: Worker = build_worker(settings, self.store, metrics)
        except BaseException:
            self.store.close()
            raise
        self.lock = pass_lock(settings)

    def run_pass(self) -> None:
        """One scheduled pass, as ``tick`` runs it (the outbox drained first, then the queue)."""
        tick(self.worker, utc_now(), self.lock)

    def close(self) -> None:
        """Hand the pass lease back (a clean stop), then release the worker and its store."""
        try:
            if self.worker.lease is not None:
                try:
                    self.worker.lease.release()
                except SheetqueueError as exc:  # it expires by itself; say so and stop
                    log.warning("lease.not_released", error=str(exc))
        finally:
            try:
                self.worker.close()
            finally:
                self.store.close()


def _stopped(signum: int, _frame: FrameType | None) -> None:
    log.info("serve.stopping", signal=signal.Signals(signum).name)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8000,
    with_worker: Annotated[
        bool, typer.Option("--with-worker", help="Run the scheduled worker in this process too.")
    ] = False,
) -> None:
    """Serve the bot-facing HTTP API until SIGTERM/SIGINT (every shop's, with SHEETQUEUE_SHOPS)."""
    from sheetqueue.worker.scheduler import PassNow

    configure_logging("INFO")
    try:
        settings = load_settings()
        configure_logging(settings.log_level or "INFO")
        shops = shops_from_settings(settings)
        for name, each in _served(settings, shops):
            if not each.api_token.get_secret_value() and not is_loopback(host):
                whose = f" (shop {name!r} has none: set api_token in its table)" if name else ""
                raise ConfigError(
                    f"SHEETQUEUE_API_TOKEN: required to listen on {host}{whose}; set a token, "
                    "or leave --host at 127.0.0.1"
                )
            check_settings(each)
        listening = bind(host, port)
        if shops is not None:
            _serve_shops(shops, host, port, listening, with_worker)
            return
        metrics = Metrics()
        readiness = Readiness(
            metrics,
            clock=utc_now,
            probe=store_probe(settings, metrics),
            interval_seconds=settings.interval_seconds if with_worker else None,
            max_missed=settings.ready_missed_passes,
        )
        waker = PassNow(utc_now) if with_worker else None  # sheet events wake the pass now
        api = build_api(
            settings, metrics, readiness=readiness, pass_now=waker.wake if waker else None
        )
        background = _ServeWorker(settings, metrics) if with_worker else None
        if waker is not None and background is not None:
            waker.mark = background.worker.team_events
    except SheetqueueError as error:
        raise fail(error) from None
    _run(api, host, port, listening, background, settings.interval_seconds, waker)


class _Background(Protocol):
    def run_pass(self) -> None: ...

    def close(self) -> None: ...


class _ServeShops:
    """The worker of ``serve --with-worker`` with a shops file: every shop's pass, as ``worker``."""

    def __init__(self, shops: Shops) -> None:
        self.passes = ShopPasses(shops, clock=utc_now)

    def run_pass(self) -> None:
        self.passes.run()

    def close(self) -> None:
        self.passes.release()


def _served(settings: Settings, shops: Shops | None) -> list[tuple[str, Settings]]:
    """The settings each served API runs with: every shop's, or the one shop's (no name)."""
    if shops is None:
        return [("", settings)]
    return [(shop.name, shop.settings) for shop in shops.shops]


def _serve_shops(
    shops: Shops, host: str, port: int, listening: socket.socket, with_worker: bool
) -> None:
    """Serve every shop's API under /shops/<name>, with every shop's worker pass if asked."""
    from sheetqueue.worker.scheduler import PassNow

    try:
        waker = PassNow(utc_now) if with_worker else None
        api = build_shops_api(shops, clock=utc_now, pass_now=waker.wake if waker else None)
        background = _ServeShops(shops) if with_worker else None
    except SheetqueueError as error:
        raise fail(error) from None
    interval = min(shop.settings.interval_seconds for shop in shops.shops)
    _run(api, host, port, listening, background, interval, waker)


GC_THRESHOLDS = (5_000, 50, 100)
"""Young collections every 5,000 new objects (not 700), far fewer full ones: a full
collection stops every request in flight for as long as it walks the live heap (the
bot's snapshot of the queue), 18-26 ms at 6,000 rows."""


def _run(
    api: FastAPI,
    host: str,
    port: int,
    listening: socket.socket,
    background: _Background | None,
    interval: float,
    waker: PassNow | None,
) -> None:
    """Serve ``api`` on the bound socket until SIGTERM/SIGINT; the worker beside it if any."""
    import uvicorn

    from sheetqueue.bot_actions.api.http_limits import SWITCH_INTERVAL, server_config
    from sheetqueue.worker.scheduler import run_scheduled

    stop = threading.Event()
    worker_thread: threading.Thread | None = None
    if background is not None:
        worker_thread = threading.Thread(
            target=run_scheduled,
            args=(background.run_pass, interval),
            kwargs={"stop": stop, "install_signals": False, "clock": utc_now, "pass_now": waker},
            name="sheetqueue-worker",
        )
        worker_thread.start()
    config = server_config(
        api,
        host,
        port,
        log_level="warning",
        log_config=None,  # uvicorn's records go through the project's logging
        access_log=False,
        timeout_graceful_shutdown=10,
    )
    sys.setswitchinterval(SWITCH_INTERVAL)
    gc.collect()
    gc.freeze()  # what start-up built lives on: full collections no longer walk it (~50 ms)
    gc.set_threshold(*GC_THRESHOLDS)
    log.info("serve.started", host=host, port=port, with_worker=background is not None)
    # uvicorn handles SIGTERM/SIGINT itself, then re-raises the signal to the handler
    # that was there before it: make that one a no-op so a clean stop exits 0.
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, _stopped)
    try:
        uvicorn.Server(config).run(sockets=[listening])
    except SystemExit as stopped:  # uvicorn's own start-up failure (3) is not one of ours
        raise typer.Exit(0 if stopped.code in (0, None) else 1) from None
    finally:
        stop.set()
        if worker_thread is not None:
            worker_thread.join()
        if background is not None:
            background.close()
        log.info("serve.stopped")
