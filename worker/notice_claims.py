"""Who holds a claim on a notice: this process's name, and whether a claim still stands.

A claim names its process as ``host:pid`` and runs out at a time. A claim that
has run out is void; so is one whose process on this host is gone. A claim from
another host stands until it runs out (its process cannot be asked).
"""

from __future__ import annotations

import os
import socket
from datetime import datetime

from sheetqueue.sheets.times import parse_time

__all__ = ["claim_held", "claimant"]


def claimant() -> str:
    """This process, as its claims name it."""
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_held(until: str, by: str, now: datetime) -> bool:
    """A claim still stands: not run out, and its process (on this host) still alive."""
    expiry = parse_time(until) if until else None
    if expiry is None or expiry <= now:
        return False
    host, _, pid = by.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
