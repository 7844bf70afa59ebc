"""``sheetqueue serve`` as a user runs it: localhost only without a token, worker, SIGTERM."""

from __future__ import annotations

import json
import signal
import socket
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from sheetqueue.sheets.lease import SqliteLease, holder_for_state
from tests.cli_runner import SheetqueueCli, wait_until_serving
from tests.factories import make_order_record

TOKEN = "serve-token-1"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_public_host_without_a_token_is_refused(cli: SheetqueueCli) -> None:
    """Without SHEETQUEUE_API_TOKEN, --host 0.0.0.0 exits 2 with one line naming the setting."""
    result = cli("serve", "--host", "0.0.0.0", timeout=30)  # noqa: S104 (refused, never bound)
    assert result.code == 2
    assert "SHEETQUEUE_API_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_with_worker_records_checks_and_stops_on_sigterm(tmp_path: Path) -> None:
    """A request posted to the server lands, the in-process worker checks it, SIGTERM exits 0."""
    delivered = (datetime.now(UTC) - timedelta(days=3)).date().isoformat()
    orders = tmp_path / "orders.json"
    orders.write_text(json.dumps([make_order_record(status="delivered", delivered_at=delivered)]))
    port = _free_port()
    cli = SheetqueueCli(
        tmp_path,
        SHEETQUEUE_ORDERS=f"file:{orders}",
        SHEETQUEUE_API_TOKEN=TOKEN,
        SHEETQUEUE_INTERVAL_SECONDS="1",
    )
    process = cli.popen("serve", "--port", str(port), "--with-worker")
    url = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    try:
        deadline = time.monotonic() + 20  # serving, then the pass's outcome, within it
        wait_until_serving(url, process, 20)
        body = {"type": "return", "order_id": "ORD-1001", "email": "ana@example.com"}
        posted = requests.post(url + "/v1/requests", json=body, headers=headers, timeout=5)
        assert posted.status_code == 201
        request_id = posted.json()["request_id"]
        status = ""
        while status != "Eligible" and time.monotonic() < deadline:
            time.sleep(0.2)
            answer = requests.get(
                f"{url}/v1/requests/{request_id}",
                params={"email": "ana@example.com"},
                headers=headers,
                timeout=5,
            )
            status = answer.json()["status"]
        assert status == "Eligible"
        assert (
            "sheetqueue_worker_passes_total"
            in requests.get(url + "/metrics", headers=headers, timeout=5).text
        )
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    listed = cli("list", "--json")
    assert [row["request_id"] for row in listed.json()] == [request_id]


def test_serve_with_worker_keeps_one_worker_and_hands_the_lease_back_on_sigterm(
    tmp_path: Path,
) -> None:
    """Several passes on one worker (the lease taken once); after SIGTERM another host ticks."""
    port = _free_port()
    queue = tmp_path / "queue.db"
    (tmp_path / "other-host").mkdir()
    cli = SheetqueueCli(tmp_path, SHEETQUEUE_INTERVAL_SECONDS="1")
    other = SheetqueueCli(tmp_path / "other-host", SHEETQUEUE_LOCAL_PATH=str(queue))
    process = cli.popen("serve", "--port", str(port), "--with-worker")
    try:
        deadline = time.monotonic() + 30
        while not SqliteLease(queue, holder_for_state(tmp_path / "x"), timedelta(0)).peek().holder:
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.2)
        held = other("tick")
        assert held.code == 1 and "another worker runs passes" in held.stderr
        time.sleep(3.5)  # a few more one-second passes of the same worker
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    events = [json.loads(line)["event"] for line in err.splitlines() if line.startswith("{")]
    assert events.count("tick.started") >= 3, err[-2000:]
    assert events.count("lease.taken") == 1, err[-2000:]
    assert SqliteLease(queue, holder_for_state(tmp_path / "x"), timedelta(0)).peek().holder is None
    assert other("tick").code == 0
