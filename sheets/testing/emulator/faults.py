"""What tests control around the API: injected faults, per-minute quotas, the call log.

All three are plain objects with no I/O; the clock is passed in, so quota
tests move time by hand instead of sleeping.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sheetqueue.sheets.testing.emulator.errors import ApiError

__all__ = ["Call", "CallLog", "Faults", "Quota", "fault_error", "quota_error"]

_MESSAGES = {
    429: "Quota exceeded for quota metric 'Requests' and limit 'Requests per minute per user' "
    "of service 'sheets.googleapis.com'.",
    500: "Internal error encountered.",
    503: "The service is currently unavailable.",
}


@dataclass(frozen=True)
class Call:
    """One API call as the emulator answered it.

    ``columns`` names each column a values write (update, batchUpdate, append)
    touched, as ``Tab!Header`` with the header row as it stood just before the
    write (``Tab!#7`` for a column with a blank header), so a test can count
    the writes per column.
    """

    method: str
    path: str
    kind: str
    status: int
    columns: tuple[str, ...] = ()


class CallLog:
    """Every API call (admin calls excluded), in order."""

    def __init__(self) -> None:
        self.calls: list[Call] = []

    def record(self, call: Call) -> None:
        self.calls.append(call)

    def counts(self) -> dict[str, int]:
        """``total``, ``read``, ``write``, ``ok``, ``failed`` and one entry per status code."""
        counts = {"total": len(self.calls), "read": 0, "write": 0, "ok": 0, "failed": 0}
        for call in self.calls:
            counts[call.kind] += 1
            counts["ok" if call.status < 400 else "failed"] += 1
            counts[str(call.status)] = counts.get(str(call.status), 0) + 1
        return counts

    def reset(self) -> None:
        self.calls.clear()


class Faults:
    """Random failures at a rate, a fixed delay, "fail the next N calls", and slow appends."""

    def __init__(self) -> None:
        self.rate = 0.0
        self.codes: tuple[int, ...] = (429, 500, 503)
        self.delay = 0.0
        self._random = random.Random(0)
        self._queued: deque[int] = deque()
        self._slow_appends: deque[tuple[float, float]] = deque()

    def configure(
        self,
        rate: float = 0.0,
        codes: Sequence[int] = (429, 500, 503),
        delay: float = 0.0,
        seed: int | None = None,
    ) -> None:
        """Fail a share ``rate`` (0..1) of calls with one of ``codes``; wait ``delay`` s each."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        if not codes or any(code not in _MESSAGES for code in codes):
            raise ValueError(f"codes must be among {sorted(_MESSAGES)}")
        if delay < 0:
            raise ValueError("delay must not be negative")
        self.rate, self.codes, self.delay = rate, tuple(codes), delay
        self._random = random.Random(seed)

    def fail_next(self, count: int = 1, code: int = 503) -> None:
        """Answer the next ``count`` calls with ``code``."""
        if code not in _MESSAGES:
            raise ValueError(f"code must be among {sorted(_MESSAGES)}")
        self._queued.extend([code] * count)

    def slow_appends(
        self, count: int = 1, land_after: float = 0.0, answer_after: float = 0.0
    ) -> None:
        """The next ``count`` appends land ``land_after`` s after they arrive, then answer
        ``answer_after`` s later: a client that gives up first sees no answer, yet its rows land."""
        if count < 0 or land_after < 0 or answer_after < 0:
            raise ValueError("count, land_after and answer_after must not be negative")
        self._slow_appends.extend([(land_after, answer_after)] * count)

    @property
    def slow_appends_left(self) -> int:
        """Slow appends configured that no append has taken yet."""
        return len(self._slow_appends)

    def take_slow_append(self) -> tuple[float, float] | None:
        """(land_after, answer_after) for the append arriving now, or ``None``."""
        return self._slow_appends.popleft() if self._slow_appends else None

    def clear(self) -> None:
        """No more faults, no delay, no slow appends."""
        self.configure()
        self._queued.clear()
        self._slow_appends.clear()

    def pick(self) -> int | None:
        """The code this call fails with, or ``None``."""
        if self._queued:
            return self._queued.popleft()
        if self.rate and self._random.random() < self.rate:
            return self._random.choice(self.codes)
        return None


class Quota:
    """Google-like per-minute read and write request limits (off by default)."""

    window = 60.0

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.limits: dict[str, int | None] = {"read": None, "write": None}
        self._seen: dict[str, deque[float]] = {"read": deque(), "write": deque()}

    def configure(
        self, read_per_minute: int | None = None, write_per_minute: int | None = None
    ) -> None:
        """Set the limits; ``None`` turns one off. Counting starts afresh."""
        self.limits = {"read": read_per_minute, "write": write_per_minute}
        for seen in self._seen.values():
            seen.clear()

    def admit(self, kind: str) -> bool:
        """Count a call of ``kind``; ``False`` when it is over the limit (not counted)."""
        limit = self.limits.get(kind)
        if limit is None:
            return True
        now = self.clock()
        seen = self._seen[kind]
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        if len(seen) >= limit:
            return False
        seen.append(now)
        return True


def fault_error(code: int) -> ApiError:
    """The error body Google sends with ``code``."""
    return ApiError(code, _MESSAGES[code])


def quota_error(kind: str) -> ApiError:
    """Google's 429 for a per-minute quota."""
    word = "Read" if kind == "read" else "Write"
    return ApiError(
        429,
        f"Quota exceeded for quota metric '{word} requests' and limit '{word} requests per "
        f"minute per user' of service 'sheets.googleapis.com' for consumer 'project_number:0'.",
    )
