"""The clock: the one place sheetqueue reads the real time.

Everything below the entry points takes ``now`` or a :data:`Clock` as an
argument; only the composition root and the command line call
:func:`utc_now`, so tests can hand in a fixed time instead.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

__all__ = ["Clock", "utc_now"]

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)
