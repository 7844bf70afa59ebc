"""Shared parts of the HTTP benchmarks: a real ``sheetqueue serve``, paced client load, landing.

The server is the console script in its own process (as in production), on
a free port of 127.0.0.1; the Sheets emulator and the client threads run in
the benchmark's process. Latency is measured per request, from sending to
the complete answer.
"""

from __future__ import annotations

import gc
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.table import Table

from sheetqueue.sheets.model import CANONICAL_HEADER, LOG_HEADER
from sheetqueue.sheets.testing.emulator import Emulator

__all__ = [
    "Cell",
    "Landing",
    "Load",
    "count_rows",
    "gsheets_env",
    "new_book",
    "percentile",
    "percentile_ms",
    "post_request",
    "record_body",
    "results_table",
    "run_load",
    "run_open_loop",
    "serve",
    "sheet_ids",
    "wait_landed",
]

SCRIPT = Path(sys.executable).with_name("sheetqueue")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serve(env: Mapping[str, str], folder: Path) -> Iterator[str]:
    """``sheetqueue serve`` on a free port with ``env``; yields its base URL; SIGTERM at the end."""
    port = _free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SHEETQUEUE_")}
    base = {
        "SHEETQUEUE_LOCAL_PATH": str(folder / "queue.db"),
        "SHEETQUEUE_STATE_PATH": str(folder / "state.db"),
        "SHEETQUEUE_NOTIFY": f"maildir:{folder / 'mail'}",
    }
    process = subprocess.Popen(
        [str(SCRIPT), "serve", "--port", str(port)],
        env={**clean, **base, **env},
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sheetqueue serve exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError("sheetqueue serve did not start in 30 s")


def new_book(emulator: Emulator) -> str:
    """A spreadsheet with the canonical ``Requests`` header, a ``Log`` and an ``Orders`` tab."""
    return emulator.create_spreadsheet(
        "Bench", {"Requests": [list(CANONICAL_HEADER)], "Log": [list(LOG_HEADER)], "Orders": []}
    )


def gsheets_env(emulator: Emulator) -> tuple[str, dict[str, str]]:
    """A new bench spreadsheet and the environment that points ``serve`` at it."""
    book = new_book(emulator)
    assert emulator.url is not None
    env = {
        "SHEETQUEUE_BACKEND": "gsheets",
        "SHEETQUEUE_SPREADSHEET_ID": book,
        "SHEETQUEUE_SHEETS_API_URL": emulator.url,
    }
    return book, env


def sheet_ids(emulator: Emulator, book: str) -> list[str]:
    """The Request ID cell (column A) of every data row of ``Requests``, read outside the quota."""
    return [str(row[0]) if row else "" for row in emulator.values(book, "Requests")[1:]]


def record_body(run: str, n: int) -> dict[str, Any]:
    """A ``POST /v1/requests`` body of its own conversation (no two are duplicates)."""
    kind = ("return", "refund", "cancellation", "exchange")[n % 4]
    body: dict[str, Any] = {
        "type": kind,
        "order_id": f"ORD-{n:06d}",
        "email": f"shopper{n}@example.com",
        "conversation_id": f"{run}-{n}",
        "channel": "chat",
    }
    if kind == "exchange":  # an exchange names what the shopper wants instead
        body["details"] = {"size": "M"}
    return body


@dataclass
class Load:
    """What the clients saw: one latency (s) and status per request, and the time span."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    accepted_ids: list[str] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def seconds(self) -> float:
        return self.finished - self.started

    def count_call(
        self, send: Callable[[Any, int], tuple[str, str]], client: Any, n: int, *, since: float
    ) -> None:
        """Call ``send(client, n)`` and count its outcome; on ``ok``, its ID and latency.

        The latency counts from ``since`` (a :func:`time.perf_counter` reading); an
        exception is an outcome by its name.
        """
        try:
            outcome, request_id = send(client, n)
        except Exception as exc:  # a client error is an outcome, not a crash
            outcome, request_id = type(exc).__name__, ""
        spent = time.perf_counter() - since
        with self.lock:
            self.statuses[outcome] += 1
            if outcome == "ok":
                self.latencies.append(spent)
                self.accepted_ids.append(request_id)


def run_load(
    send: Callable[[Any, int], tuple[str, str]],
    count: int,
    *,
    threads: int,
    rate: float | None = None,
    open_client: Callable[[], Any] = lambda: httpx.Client(timeout=60),
) -> Load:
    """``count`` calls of ``send(client, n)`` from ``threads`` threads, at ``rate``/s if given.

    ``send`` returns (outcome, request_id): outcome ``ok`` counts the call's
    latency and ID; anything else is counted by name.
    """
    load = Load(started=time.monotonic())

    def client_thread(index: int) -> None:
        client = open_client()
        try:
            for n in range(index, count, threads):
                if rate is not None:
                    delay = load.started + n / rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                load.count_call(send, client, n, since=time.perf_counter())
        finally:
            client.close()

    workers = [threading.Thread(target=client_thread, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    load.finished = time.monotonic()
    return load


def run_open_loop(
    send: Callable[[Any, int], tuple[str, str]],
    rate: float,
    seconds: float,
    *,
    threads: int = 32,
    open_client: Callable[[], Any] = lambda: httpx.Client(timeout=60),
    warm_up: Callable[[Any], object] = lambda _client: None,
) -> Load:
    """``rate``/s calls of ``send(client, n)`` for ``seconds``, on a fixed timetable.

    Call ``n`` is due at ``start + n / rate`` whatever the earlier calls did;
    its latency counts from that due time, not from when a thread got to it,
    so a slow server's queueing shows (no coordinated omission). ``threads``
    clients (keep-alive connections) take the next due call as they come free.
    Each client is made and ``warm_up(client)`` called (to open its
    connection) before the timetable starts: setting up clients is not the
    server's latency.
    """
    count = max(1, round(rate * seconds))
    load = Load()
    taken = iter(range(count))
    take_lock = threading.Lock()
    ready = threading.Barrier(threads + 1)
    start_perf = 0.0

    def client_thread() -> None:
        client = open_client()
        try:
            warm_up(client)
            ready.wait()
            ready.wait()  # the start time is set between the two
            while True:
                with take_lock:
                    n = next(taken, None)
                if n is None:
                    return
                due = start_perf + n / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                load.count_call(send, client, n, since=due)
        finally:
            client.close()

    workers = [threading.Thread(target=client_thread) for _ in range(threads)]
    for worker in workers:
        worker.start()
    ready.wait()
    gc.collect()
    gc.freeze()  # the clients' own collections are not the server's latency
    load.started = time.monotonic() + 0.1
    start_perf = time.perf_counter() + 0.1
    ready.wait()
    for worker in workers:
        worker.join()
    load.finished = time.monotonic()
    gc.unfreeze()
    return load


def post_request(url: str, run: str) -> Callable[[httpx.Client, int], tuple[str, str]]:
    """A ``send`` for :func:`run_load`: ``POST /v1/requests``, ``ok`` on 201."""

    def send(client: httpx.Client, n: int) -> tuple[str, str]:
        answer = client.post(f"{url}/v1/requests", json=record_body(run, n))
        if answer.status_code == 201:
            return "ok", str(answer.json()["request_id"])
        return f"HTTP {answer.status_code}", ""

    return send


def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` (0..1) percentile of ``values`` (nearest rank), 0.0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))
    return ordered[rank]


def percentile_ms(values: Sequence[float], share: float) -> float:
    """:func:`percentile` of latencies in seconds, as milliseconds rounded to 0.1."""
    return round(percentile(values, share) * 1000, 1)


Cell = str | Callable[[dict[str, Any]], str]


def results_table(
    title: str, columns: Sequence[tuple[str, Cell]], results: Sequence[dict[str, Any]]
) -> Table:
    """A Rich table, right-aligned, a row per result; a column is (heading, key or formatter).

    A key shows ``str(result[key])``; a formatter is called with the result.
    """
    out = Table(title=title)
    for heading, _cell in columns:
        out.add_column(heading, justify="right")
    for result in results:
        out.add_row(
            *(str(result[cell]) if isinstance(cell, str) else cell(result) for _h, cell in columns)
        )
    return out


def count_rows(ids: Sequence[str]) -> tuple[int, int]:
    """(distinct non-blank IDs, duplicate rows) among the Request IDs of a queue."""
    counts = Counter(i for i in ids if i)
    return len(counts), sum(c - 1 for c in counts.values() if c > 1)


@dataclass(frozen=True)
class Landing:
    """When the accepted rows were all in the queue, after the last answer."""

    landed: int
    duplicates: int
    missing: int
    seconds_after_last: float | None


def wait_landed(
    read_ids: Callable[[], list[str]], wanted: Sequence[str], since: float, timeout: float
) -> Landing:
    """Poll ``read_ids`` until every ID in ``wanted`` is there, or ``timeout`` s after ``since``."""
    goal = set(wanted)
    while True:
        ids = read_ids()
        present = goal & set(ids)
        done = len(present) == len(goal)
        if done or time.monotonic() - since > timeout:
            counts = Counter(i for i in ids if i in goal)
            duplicates = sum(c - 1 for c in counts.values() if c > 1)
            after = round(time.monotonic() - since, 1) if done else None
            return Landing(len(present), duplicates, len(goal - present), after)
        time.sleep(0.25)
