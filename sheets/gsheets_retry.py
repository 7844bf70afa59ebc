"""Bounded, jittered exponential backoff for Google Sheets calls (Google's recipe).

The n-th retry waits ``min(2**n + random(), max_backoff)`` seconds; it gives up
after ``max_tries`` tries or when the waits would pass ``max_total`` seconds,
whichever comes first. Only :class:`Transient` failures (429, 5xx, timeouts,
dropped connections) are tried again; anything else is raised at once. The
sleep and the random source are plugged in, so tests never sleep for real.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sheetqueue.config.errors import StoreError

__all__ = ["Backoff", "Transient"]

T = TypeVar("T")


class Transient(StoreError):
    """A Sheets call failed in a way worth trying again.

    ``maybe_applied`` is True when a write may have landed even though no
    answer came back (a timeout, a 5xx), so the caller must look before
    writing again.
    """

    def __init__(self, message: str, *, code: int | None, maybe_applied: bool) -> None:
        super().__init__(message)
        self.code = code
        self.maybe_applied = maybe_applied


@dataclass
class Backoff:
    """How long and how often to try again; ``sleep`` and ``jitter`` are injectable."""

    max_tries: int = 6
    max_backoff: float = 32.0
    max_total: float = 90.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    jitter: Callable[[], float] = field(default=random.random, repr=False)

    def delay(self, retry: int) -> float:
        """Seconds before retry number ``retry`` (0 for the first retry)."""
        return float(min(2**retry + self.jitter(), self.max_backoff))

    def run(
        self,
        attempt: Callable[[], T],
        on_retry: Callable[[Transient, float], None] | None = None,
    ) -> T:
        """Call ``attempt`` until it returns, retrying :class:`Transient` failures."""
        waited = 0.0
        tries = 0
        while True:
            tries += 1
            try:
                return attempt()
            except Transient as exc:
                wait = self.delay(tries - 1)
                if tries >= self.max_tries or waited + wait > self.max_total:
                    raise StoreError(f"{exc} (gave up after {tries} tries)") from exc
                if on_retry is not None:
                    on_retry(exc, wait)
                self.sleep(wait)
                waited += wait
