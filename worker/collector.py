"""Python's cycle collector held off while a pass reads and decides the sheet.

A pass over a big sheet makes a list for every row it reads (tens of
thousands) and keeps them until it ends. They hold no reference cycles, so
the collector can free none of them, yet each automatic collection during the
pass walks all of them again: at 50,000 rows that was about a third of a quiet
pass's CPU. Reference counting still frees everything that is let go; only
the cycle search waits, and the collector runs on its usual schedule again as
soon as the pass is over.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused"]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Hold the cycle collector for the block (as a decorator: for the call); nest freely."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
