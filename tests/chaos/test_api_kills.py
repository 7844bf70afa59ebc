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
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from sheetqueue.sheets.model import Request
from sheetqueue.sheets.testing.emulator import Emulator
from tests.chaos.audit import ChaosAudit, audit_queue
from tests.cli_runner import SheetqueueCli, cli_on_sheet
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


@dataclass
class _ServeUnderLoad:
    """``sheetqueue serve ARGS`` on an emulator sheet, the bots posting to it all along."""

    emulator: Emulator
    book: str
    cli: SheetqueueCli
    port: int
    args: tuple[str, ...]
    bots: list[_Bot]
    server: subprocess.Popen[bytes]

    def kill(self) -> None:
        """SIGKILL the server and wait for it to be gone."""
        self.server.send_signal(signal.SIGKILL)
        self.server.wait(10)

    def restart(self) -> None:
        self.server = start_serve(self.cli, self.port, *self.args)

    def stop_bots_once_landed(self, *, timeout: float) -> tuple[dict[str, str], list[Request]]:
        """Stop the bots; what was answered 2xx, and the rows once it has all landed."""
        acked = _stopped(self.bots)
        return acked, _rows_once_landed(self.emulator, self.book, acked, timeout=timeout)


@contextmanager
def _serve_under_load(
    tmp_path: Path, *args: str, fault_rate: float = 0.0, **env: str
) -> Iterator[_ServeUnderLoad]:
    """A fresh sheet, ``serve ARGS`` with ``env``, the bots posting; SIGTERM at the end.

    With ``fault_rate``, that share of the sheet's calls fails (seeded) from before the start.
    """
    port = free_port()
    with Emulator() as emulator:
        book = new_book(emulator)
        cli = cli_on_sheet(tmp_path, emulator, book, **env)
        if fault_rate:
            emulator.set_faults(rate=fault_rate, seed=5)
        bots = [_Bot(f"http://127.0.0.1:{port}", i) for i in range(CLIENTS)]
        run = _ServeUnderLoad(emulator, book, cli, port, args, bots, start_serve(cli, port, *args))
        for bot in bots:
            bot.thread.start()
        try:
            yield run
        finally:
            run.server.send_signal(signal.SIGTERM)
            run.server.wait(30)


def test_api_server_killed_at_random_points(tmp_path: Path) -> None:
    """Every 2xx-answered request lands exactly once, through SIGKILLs and restarts."""
    rng = random.Random(1122)
    with _serve_under_load(
        tmp_path,
        fault_rate=0.1,
        SHEETQUEUE_SHEETS_TIMEOUT_SECONDS="2",
        SHEETQUEUE_SHEETS_LANDING_SECONDS="3",
    ) as run:
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.3, 3.0))
            run.kill()
            time.sleep(rng.uniform(0.0, 0.5))
            run.restart()
        acked = _stopped(run.bots)
        run.emulator.set_faults()
        rows = _rows_once_landed(run.emulator, run.book, acked, timeout=60)
    audit = audit_queue(rows, acked.values(), {}, [], kills=KILLS)
    twice = _under_two_ids(rows)
    resent = sum(bot.resent for bot in run.bots)
    print(
        f"\nchaos api: {KILLS} kills, {len(acked)} requests answered 2xx, {resent} resends "
        f"by the bots, {len(rows)} rows: {audit.line()}, requests under two IDs {twice}"
    )
    _assert_each_landed_once(audit, acked, rows, twice)


def test_serve_with_worker_restarted_with_a_full_outbox(tmp_path: Path) -> None:
    """SIGKILLs of ``serve --with-worker`` while rows wait or are in flight: each lands once."""
    rng = random.Random(1103)
    spells = Counter[str]()
    with _serve_under_load(
        tmp_path,
        "--with-worker",
        SHEETQUEUE_SHEETS_TIMEOUT_SECONDS="1",
        SHEETQUEUE_SHEETS_LANDING_SECONDS="4",
        SHEETQUEUE_INTERVAL_SECONDS="1",
    ) as run:
        for _ in range(KILLS):
            spell = rng.choice(["refused", "slow", "open"])
            spells[spell] += 1
            if spell == "refused":
                run.emulator.set_quota(write_per_minute=0)
            elif spell == "slow":
                run.emulator.slow_appends(3, land_after=2.5)
            time.sleep(rng.uniform(1.0, 3.0))
            run.kill()
            run.emulator.set_quota()
            run.restart()
        acked, rows = run.stop_bots_once_landed(timeout=90)
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
