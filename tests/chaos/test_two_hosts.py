"""Chaos: two hosts on one PostgreSQL state, each with ``serve`` and ``worker``, killed at random.

Host A and host B have their own folders (their own SQLite paths, which they
must not use) and one ``SHEETQUEUE_STATE_URL``. Two bots post requests with
an ``Idempotency-Key`` to either replica, and send again (to either) until a
2xx comes; any of the four processes is SIGKILLed and restarted at random;
the sheet fails 30 % of calls meanwhile. Then: every request answered 2xx
is in the sheet once, every notice arrived once (a resend is counted apart
only where a kill fell mid-send), and the workers' pass spans, read from
their logs, never overlap. The fast run is part of ``make test``; the long
one runs under ``make chaos`` and prints its figures.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from pathlib import Path

import httpx
import pytest

from sheetqueue.sheets.testing.emulator import Emulator
from tests.api_kit import write_orders
from tests.chaos.audit import audit_queue
from tests.cli_runner import SCRIPT, SheetqueueCli, cli_on_sheet
from tests.outbox_kit import new_book
from tests.smtp_server import SmtpServer, free_port
from tests.store_backends import store_on

ORDERS = (("ORD-1003", "cy@example.com"), ("ORD-1001", "ana@example.com"))  # Ineligible, Eligible


class _Bot:
    """Posts requests to either replica until stopped; keeps each key's first 2xx answer."""

    def __init__(self, urls: list[str], index: int, seed: int) -> None:
        self.urls, self.index = urls, index
        self.rng = random.Random(seed)
        self.acked: dict[str, str] = {}
        self.disagreed: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=5) as client:
            n = 0
            while not self.stop.is_set():
                key = f"host-bot{self.index}-{n}"
                order, email = ORDERS[n % 2]
                body = {"type": "return", "order_id": order, "email": email}
                self._send(client, key, {**body, "conversation_id": key})
                self._send(client, key, {**body, "conversation_id": key})  # a repeat: same answer
                n += 1

    def _send(self, client: httpx.Client, key: str, body: dict[str, str]) -> None:
        for attempt in range(1200):
            if attempt:
                time.sleep(0.05)
            url = self.rng.choice(self.urls)
            try:
                answer = client.post(
                    f"{url}/v1/requests", json=body, headers={"Idempotency-Key": key}
                )
            except httpx.HTTPError:
                continue
            if answer.status_code in (200, 201):
                request_id = str(answer.json()["request_id"])
                if self.acked.setdefault(key, request_id) != request_id:
                    self.disagreed.append(key)
                return
            if answer.status_code < 500:
                raise AssertionError(f"{answer.status_code}: {answer.text}")


@dataclass
class _Process:
    """One of the four: its command, the running process, one log file per start."""

    name: str
    cli: SheetqueueCli
    args: list[str]
    port: int = 0
    logs: list[Path] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.cli.workdir / f"{self.name}-{len(self.logs)}.log"
        self.logs.append(log)
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [str(SCRIPT), *self.args],
                cwd=self.cli.workdir,
                env=self.cli.env,
                stdout=subprocess.DEVNULL,
                stderr=out,
            )
        if self.port:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).is_success:
                        return
                except httpx.HTTPError:
                    time.sleep(0.05)
            raise AssertionError(f"{self.name} did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def _host(
    tmp_path: Path, name: str, url: str, emulator: Emulator, book: str, smtp: str
) -> SheetqueueCli:
    folder = tmp_path / name
    folder.mkdir()
    assert emulator.url is not None
    return cli_on_sheet(
        folder,
        emulator,
        book,
        SHEETQUEUE_STATE_URL=url,
        SHEETQUEUE_SHEETS_TIMEOUT_SECONDS="2",
        SHEETQUEUE_SHEETS_LANDING_SECONDS="2",
        SHEETQUEUE_ORDERS=f"file:{write_orders(tmp_path)}",
        SHEETQUEUE_INTERVAL_SECONDS="1",
        SHEETQUEUE_NOTIFY=smtp,
        SHEETQUEUE_NOTIFY_MAX_ATTEMPTS="1000",
        SHEETQUEUE_NOTIFY_RETRY_SECONDS="0.5",
    )


def _holder_spans(worker: _Process) -> list[tuple[datetime, datetime, str]]:
    """Per start of a worker: from its first pass to its last word (a kill says nothing after)."""
    spans = []
    for log in worker.logs:
        times: list[datetime] = []
        first: datetime | None = None
        for line in log.read_text(errors="replace").splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if "timestamp" not in event:
                continue
            when = datetime.fromisoformat(str(event["timestamp"]).replace("Z", "+00:00"))
            times.append(when)
            if event.get("event") == "lease.pass_started" and first is None:
                first = when
        if first is not None:
            spans.append((first, max(times), f"{log.name}"))
    return spans


def _overlaps(spans: list[tuple[datetime, datetime, str]]) -> int:
    ordered = sorted(spans)
    return sum(1 for before, after in pairwise(ordered) if after[0] < before[1])


def _run_two_hosts(tmp_path: Path, pg_url: str, *, seconds: float, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    with Emulator() as emulator, SmtpServer() as smtp:
        book = new_book(emulator)
        hosts = [_host(tmp_path, name, pg_url, emulator, book, smtp.url()) for name in "ab"]
        processes = []
        for name, cli in zip("ab", hosts, strict=True):
            port = free_port()
            serve = _Process(f"serve-{name}", cli, ["serve", "--port", str(port)], port)
            processes += [serve, _Process(f"worker-{name}", cli, ["worker"])]
        for process in processes:
            process.start()
        urls = [f"http://127.0.0.1:{p.port}" for p in processes if p.port]
        emulator.set_faults(rate=0.3, seed=seed)
        bots = [_Bot(urls, i, seed + i) for i in range(2)]
        kills = 0
        try:
            for bot in bots:
                bot.thread.start()
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                time.sleep(rng.uniform(0.3, 1.5))
                victim = rng.choice(processes)
                victim.kill()
                kills += 1
                victim.start()
            for bot in bots:
                bot.stop.set()
                bot.thread.join(120)
            emulator.set_faults()
            acked = {key: rid for bot in bots for key, rid in bot.acked.items()}
            store = store_on(emulator, book)
            deadline = time.monotonic() + 120
            while True:
                rows = [s.request for s in store.read_requests()]
                received = [
                    (str(m.message["X-Sheetqueue-Request"]), str(m.message["Message-ID"]))
                    for m in smtp.messages
                ]
                audit = audit_queue(rows, acked.values(), {}, received, kills=kills)
                if audit.lost_requests == audit.missing_notifications == 0:
                    break
                if time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            store.close()
        finally:
            for bot in bots:
                bot.stop.set()
            for process in processes:
                process.stop()
        spans = [s for p in processes if "worker" in p.name for s in _holder_spans(p)]
        disagreed = sum(len(bot.disagreed) for bot in bots)
    figures = {
        "requests answered 2xx": len(acked),
        "kills": kills,
        "lost": audit.lost_requests,
        "duplicate rows": audit.duplicate_rows,
        "duplicate notices": audit.duplicate_notifications,
        "missing notices": audit.missing_notifications,
        "resends after a kill mid-send": audit.resends_after_kill,
        "worker holder spans": len(spans),
        "overlapping passes": _overlaps(spans),
        "different answers to one key": disagreed,
    }
    print("\ntwo hosts: " + ", ".join(f"{name} {value}" for name, value in figures.items()))
    return figures


def _assert_clean(figures: dict[str, int]) -> None:
    assert figures["requests answered 2xx"] > 0 and figures["worker holder spans"] > 0
    for name in (
        "lost",
        "duplicate rows",
        "duplicate notices",
        "missing notices",
        "overlapping passes",
        "different answers to one key",
    ):
        assert figures[name] == 0, (name, figures)


def test_two_hosts_with_kills_and_sheet_faults_fast(tmp_path: Path, pg_url: str) -> None:
    """Two hosts, random SIGKILLs, 30 % Sheets faults (a short run): nothing lost, nothing twice."""
    _assert_clean(_run_two_hosts(tmp_path, pg_url, seconds=5, seed=1414))


@pytest.mark.slow
def test_two_hosts_with_kills_and_sheet_faults_long(tmp_path: Path, pg_url: str) -> None:
    """The same for a minute of kills: nothing lost, nothing twice, no overlapping pass."""
    _assert_clean(_run_two_hosts(tmp_path, pg_url, seconds=60, seed=2026))
