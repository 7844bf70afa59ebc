"""Chaos: ``sheetqueue serve`` SIGKILLed at random points while a bot keeps posting requests.

Run with ``make chaos``. The server (a subprocess, gsheets backend on the
emulator failing 10% of calls) is killed and restarted again and again;
two client threads post requests, each with its own ``Idempotency-Key``, and
send the same request again with the same key when no answer came (as a bot
should). At the end every request that got a 2xx answer is in the sheet
exactly once, and no request appears twice under two IDs.

The second run kills ``serve --with-worker`` while its outbox is full: the
sheet refuses writes (or makes every append outlive the timeout) for spells,
so rows pile up, and the restart finds them waiting or in flight.
"""

from __future__ import annotations

import random
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from sheetqueue.sheets.model import Request
from sheetqueue.sheets.testing.emulator import Emulator
from tests.chaos.audit import ChaosAudit, audit_queue
from tests.cli_runner import cli_on_sheet
from tests.outbox_kit import new_book, start_serve
from tests.smtp_server import free_port
from tests.store_backends import store_on

pytestmark = pytest.mark.slow

KILLS = 10
CLIENTS = 2


class _Bot:
    """Posts requests until told to stop; keeps what the server acknowledged."""

    def __init__(self, url: str, index: int) -> None:
        self.url, self.index = url, index
        self.acked: dict[str, str] = {}
        self.resent = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=5) as client:
            n = 0
            while not self.stop.is_set():
                key = f"bot{self.index}-{n}"
                body = {
                    "type": "return",
                    "order_id": f"ORD-{self.index}{n:05d}",
                    "email": f"b{self.index}.{n}@example.com",
                    "conversation_id": key,
                }
                self._send_until_answered(client, key, body)
                n += 1

    def _send_until_answered(self, client: httpx.Client, key: str, body: dict[str, str]) -> None:
        for attempt in range(600):
            if attempt:
                self.resent += 1
                time.sleep(0.05)
            try:
                answer = client.post(
                    f"{self.url}/v1/requests", json=body, headers={"Idempotency-Key": key}
                )
            except httpx.HTTPError:
                continue
            if answer.status_code in (200, 201):
                self.acked[key] = str(answer.json()["request_id"])
                return
            if answer.status_code < 500:
                raise AssertionError(f"{answer.status_code}: {answer.text}")


def test_api_server_killed_at_random_points(tmp_path: Path) -> None:
    """Every 2xx-answered request lands exactly once, through SIGKILLs and restarts."""
    rng = random.Random(1122)
    port = free_port()
    with Emulator() as emulator:
        assert emulator.url is not None
        book = new_book(emulator)
        cli = cli_on_sheet(
            tmp_path,
            emulator,
            book,
            SHEETQUEUE_SHEETS_TIMEOUT_SECONDS="2",
            SHEETQUEUE_SHEETS_LANDING_SECONDS="3",
        )
        emulator.set_faults(rate=0.1, seed=5)
        bots = [_Bot(f"http://127.0.0.1:{port}", i) for i in range(CLIENTS)]
        server = start_serve(cli, port)
        for bot in bots:
            bot.thread.start()
        try:
            for _ in range(KILLS):
                time.sleep(rng.uniform(0.3, 3.0))
                server.send_signal(signal.SIGKILL)
                server.wait(10)
                time.sleep(rng.uniform(0.0, 0.5))
                server = start_serve(cli, port)
            acked = _stopped(bots)
            emulator.set_faults()
            rows = _rows_once_landed(emulator, book, acked, timeout=60)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
    audit = audit_queue(rows, acked.values(), {}, [], kills=KILLS)
    twice = _under_two_ids(rows)
    resent = sum(bot.resent for bot in bots)
    print(
        f"\nchaos api: {KILLS} kills, {len(acked)} requests answered 2xx, {resent} resends "
        f"by the bots, {len(rows)} rows: {audit.line()}, requests under two IDs {twice}"
    )
    _assert_each_landed_once(audit, acked, rows, twice)


def test_serve_with_worker_restarted_with_a_full_outbox(tmp_path: Path) -> None:
    """SIGKILLs of ``serve --with-worker`` while rows wait or are in flight: each lands once."""
    rng = random.Random(1103)
    port = free_port()
    with Emulator() as emulator:
        assert emulator.url is not None
        book = new_book(emulator)
        cli = cli_on_sheet(
            tmp_path,
            emulator,
            book,
            SHEETQUEUE_SHEETS_TIMEOUT_SECONDS="1",
            SHEETQUEUE_SHEETS_LANDING_SECONDS="4",
            SHEETQUEUE_INTERVAL_SECONDS="1",
        )
        bots = [_Bot(f"http://127.0.0.1:{port}", i) for i in range(CLIENTS)]
        server = start_serve(cli, port, "--with-worker")
        for bot in bots:
            bot.thread.start()
        spells = Counter[str]()
        try:
            for _ in range(KILLS):
                spell = rng.choice(["refused", "slow", "open"])
                spells[spell] += 1
                if spell == "refused":
                    emulator.set_quota(write_per_minute=0)
                elif spell == "slow":
                    emulator.slow_appends(3, land_after=2.5)
                time.sleep(rng.uniform(1.0, 3.0))
                server.send_signal(signal.SIGKILL)
                server.wait(10)
                emulator.set_quota()
                server = start_serve(cli, port, "--with-worker")
            acked = _stopped(bots)
            rows = _rows_once_landed(emulator, book, acked, timeout=90)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
    audit = audit_queue(rows, acked.values(), {}, [], kills=KILLS)
    twice = _under_two_ids(rows)
    print(
        f"\nchaos serve --with-worker, full outbox: {KILLS} kills "
        f"({', '.join(f'{n} {name}' for name, n in sorted(spells.items()))}), "
        f"{len(acked)} requests answered 2xx, {len(rows)} rows: {audit.line()}, "
        f"requests under two IDs {twice}"
    )
    _assert_each_landed_once(audit, acked, rows, twice)


def _stopped(bots: list[_Bot]) -> dict[str, str]:
    """Stop the bots; every request answered 2xx, by its idempotency key."""
    for bot in bots:
        bot.stop.set()
        bot.thread.join(60)
    return {key: rid for bot in bots for key, rid in bot.acked.items()}


def _rows_once_landed(
    emulator: Emulator, book: str, acked: dict[str, str], *, timeout: float
) -> list[Request]:
    """The queue's rows once every answered request is in it (or ``timeout`` has passed)."""
    store = store_on(emulator, book)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ids = {s.request.request_id for s in store.read_requests()}
            if set(acked.values()) <= ids:
                break
            time.sleep(0.5)
        return [s.request for s in store.read_requests()]
    finally:
        store.close()


def _under_two_ids(rows: list[Request]) -> int:
    """Rows beyond the first of one bot request (a conversation is one request here)."""
    return sum(c - 1 for c in Counter(r.conversation_id for r in rows).values() if c > 1)


def _assert_each_landed_once(
    audit: ChaosAudit, acked: dict[str, str], rows: list[Request], twice: int
) -> None:
    """Enough traffic, none of it lost, none of it landed twice."""
    assert len(acked) > 50
    assert audit.lost_requests == 0 and audit.duplicate_rows == 0, audit.details
    assert twice == 0
    assert len(rows) == len(acked)
