"""The scheduled worker: one pass at a time, and SIGTERM lets the pass in flight finish."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from sheetqueue.config.clock import utc_now
from sheetqueue.worker.scheduler import run_scheduled
from tests.cli_runner import SheetqueueCli
from tests.factories import make_order_record
from tests.http_server_kit import served_in_thread


def test_passes_never_overlap_and_stop_waits_for_the_one_in_flight() -> None:
    """A pass slower than the interval is not started twice; stop lets it finish."""
    running = 0
    most = 0
    finished = 0
    stop = threading.Event()

    def slow_pass() -> None:
        nonlocal running, most, finished
        running += 1
        most = max(most, running)
        time.sleep(1.2)
        running -= 1
        finished += 1

    thread = threading.Thread(
        target=run_scheduled,
        args=(slow_pass, 1),
        kwargs={"stop": stop, "install_signals": False, "clock": utc_now},
    )
    thread.start()
    time.sleep(1.5)
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert most == 1
    assert finished >= 1 and running == 0


class _SlowOrders(BaseHTTPRequestHandler):
    """An order API that takes its time, so SIGTERM lands during a pass."""

    asked = threading.Event()
    order = make_order_record(order_id="ORD-1", status="processing")

    def do_GET(self) -> None:
        type(self).asked.set()
        time.sleep(2.0)
        body = json.dumps(self.order).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def slow_order_api() -> Iterator[str]:
    """A real HTTP order API on 127.0.0.1 that answers after two seconds."""
    _SlowOrders.asked.clear()
    with served_in_thread(ThreadingHTTPServer(("127.0.0.1", 0), _SlowOrders)) as url:
        yield f"{url}/orders"


def test_sigterm_finishes_the_pass_in_flight_then_exits_0(
    tmp_path: Path, slow_order_api: str
) -> None:
    """The worker gets SIGTERM mid-pass: the pass completes, the row is decided, exit 0."""
    cli = SheetqueueCli(tmp_path, SHEETQUEUE_ORDERS=slow_order_api, SHEETQUEUE_INTERVAL_SECONDS="1")
    recorded = cli(
        "record",
        "--type",
        "cancellation",
        "--order",
        "ORD-1",
        "--email",
        "ana@example.com",
        "--json",
    )
    assert recorded.code == 0, recorded.stderr
    process = cli.popen("worker")
    try:
        assert _SlowOrders.asked.wait(timeout=20), "the worker never asked for the order"
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=20)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert "worker.stopped" in err
    row = cli("list", "--json").json()[0]
    assert (row["status"], row["decision"]) == ("Eligible", "eligible:notYetShipped")


def test_cron_tick_waits_for_a_pass_in_flight_and_gives_up_clearly(tmp_path: Path) -> None:
    """While another process holds the pass lock, tick waits, then exits 1 saying why."""
    from sheetqueue.config.settings import Settings
    from sheetqueue.worker.lock import pass_lock

    cli = SheetqueueCli(tmp_path)
    settings = Settings(local_path=tmp_path / "queue.db", state_path=tmp_path / "state.db")
    with pass_lock(settings).acquire(timeout=1):
        busy = cli("tick", "--wait", "0.5")
    assert busy.code == 1
    assert "another pass is still running on this store" in busy.stderr
    assert cli("tick", "--wait", "0.5").code == 0
