"""HTTP servers on 127.0.0.1 for tests: any server run in a thread, and a JSON endpoint."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["JsonEndpoint", "json_endpoint", "served_in_thread"]


@contextmanager
def served_in_thread(server: ThreadingHTTPServer, poll_interval: float = 0.05) -> Iterator[str]:
    """``server`` answering from a daemon thread; yields ``http://127.0.0.1:<port>``.

    At the end the server stops and its socket is closed.
    """
    thread = threading.Thread(target=server.serve_forever, args=(poll_interval,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class JsonEndpoint:
    """Answers every POST with ``answer``; keeps (path, body) of the ones answered 200."""

    address: str = ""
    answer: int = 200
    accepted: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def bodies(self) -> list[dict[str, Any]]:
        """The JSON bodies accepted so far, oldest first."""
        return [body for _path, body in self.accepted]


@contextmanager
def json_endpoint() -> Iterator[JsonEndpoint]:
    """A :class:`JsonEndpoint` served on a free port of 127.0.0.1 until the block ends."""
    endpoint = JsonEndpoint()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length))
            answer = endpoint.answer
            if answer == 200:
                endpoint.accepted.append((self.path, body))
            self.send_response(answer)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    with served_in_thread(ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as url:
        endpoint.address = url.removeprefix("http://")
        yield endpoint
