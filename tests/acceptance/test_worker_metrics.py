"""``sheetqueue worker --metrics-port``: metrics, liveness and readiness without the API."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.cli_runner import SheetqueueCli
from tests.factories import make_order_record
from tests.outbox_kit import eventually
from tests.smtp_server import free_port


def _ready(url: str) -> bool:
    try:
        return httpx.get(url + "/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_worker_serves_metrics_health_and_readiness_and_stops_on_sigterm(tmp_path: Path) -> None:
    """/readyz turns 200 after the first pass, /metrics parses with a pass counted; exit 0."""
    orders = tmp_path / "orders.json"
    orders.write_text(json.dumps([make_order_record(order_id="ORD-1", status="processing")]))
    cli = SheetqueueCli(
        tmp_path,
        SHEETQUEUE_ORDERS=f"file:{orders}",
        SHEETQUEUE_INTERVAL_SECONDS="1",
        SHEETQUEUE_LOG_LEVEL="info",
    )
    recorded = cli(
        "record", "--type", "cancellation", "--order", "ORD-1", "--email", "ana@example.com"
    )
    assert recorded.code == 0, recorded.stderr
    port = free_port()
    worker = cli.popen("worker", "--metrics-port", str(port))
    url = f"http://127.0.0.1:{port}"
    try:
        eventually(lambda: worker.poll() is None and _ready(url), 30, "the worker is ready")
        assert httpx.get(url + "/healthz", timeout=5).json() == {"status": "ok"}
        families = {
            f.name: f for f in text_string_to_metric_families(httpx.get(url + "/metrics").text)
        }
        passes = families["sheetqueue_worker_passes"].samples[0].value
        assert passes >= 1
        rows = {s.labels["status"]: s.value for s in families["sheetqueue_rows"].samples}
        assert rows == {"Eligible": 1}
    finally:
        worker.send_signal(signal.SIGTERM)
        _out, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err
    events = [json.loads(line)["event"] for line in err.splitlines() if line.startswith("{")]
    assert "metrics.started" in events and "worker.stopped" in events


def test_a_taken_metrics_port_is_a_clear_error(tmp_path: Path) -> None:
    """A port another program listens on stops the worker at start with exit 2."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = SheetqueueCli(tmp_path)("worker", "--metrics-port", str(port), timeout=30)
    assert result.code == 2
    assert "--metrics-port: cannot listen on 127.0.0.1" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_log_level_is_bad_configuration(tmp_path: Path) -> None:
    """SHEETQUEUE_LOG_LEVEL=LOUD stops the program with one line naming it, exit 2."""
    result = SheetqueueCli(tmp_path, SHEETQUEUE_LOG_LEVEL="LOUD")("list")
    assert result.code == 2
    assert "SHEETQUEUE_LOG_LEVEL" in result.stderr and "LOUD" in result.stderr
