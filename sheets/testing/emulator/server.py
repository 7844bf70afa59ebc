"""Running the emulator: in a background thread for tests, or in the foreground for the CLI."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType

import uvicorn

from sheetqueue.sheets.testing.emulator.app import build_app
from sheetqueue.sheets.testing.emulator.service import SheetsService

__all__ = ["Emulator", "serve_emulator"]


class Emulator(SheetsService):
    """A Sheets API emulator served by uvicorn on 127.0.0.1 in a background thread.

    Use as a context manager (``with Emulator() as emu: emu.url``) or call
    :meth:`start` and :meth:`stop`. Every :class:`SheetsService` method works
    before, during and after serving.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, seed: int = 0) -> None:
        super().__init__(clock, seed)
        self.url: str | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        """Serve on ``host:port`` (0 picks a free port); returns the base URL."""
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        sock = _bind(host, port)
        bound_port = sock.getsockname()[1]
        config = uvicorn.Config(
            build_app(self), log_level="warning", access_log=False, lifespan="off"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="sheets-emulator", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                sock.close()
                raise RuntimeError("the emulator did not start")
            time.sleep(0.01)
        self._server, self._thread, self._socket = server, thread, sock
        self.url = f"http://{host}:{bound_port}"
        return self.url

    def stop(self) -> None:
        """Stop serving (state is kept)."""
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server, self._thread, self._socket = None, None, None
        self.url = None

    def __enter__(self) -> Emulator:
        if self._server is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve_emulator(
    host: str = "127.0.0.1", port: int = 8085, announce: Callable[[str], None] = print
) -> None:
    """Serve an emulator in the foreground until interrupted (``sheetqueue emulator``).

    ``port=0`` picks a free port; the first line announced is the base URL.
    """
    sock = _bind(host, port)
    url = f"http://{host}:{sock.getsockname()[1]}"
    announce(f"Google Sheets API emulator on {url}")
    announce(f"Point sheetqueue at it: SHEETQUEUE_BACKEND=gsheets SHEETQUEUE_SHEETS_API_URL={url}")
    announce(
        f"Create a spreadsheet: POST {url}/_emulator/spreadsheets "
        '{"title": "Queue", "tabs": ["Requests", "Orders"]} -> {"spreadsheetId": ...}'
    )
    config = uvicorn.Config(
        build_app(SheetsService()), log_level="warning", access_log=False, lifespan="off"
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock
