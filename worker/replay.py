"""Policy replay: what a changed policy would decide for the queue, beside what was decided.

:func:`replay` is pure over what it is given: the rows as read, a way to find
an order, the policy to try and ``now``. It writes nothing. Each request is
decided again at the moment it was last checked (its ``Checked At``, else
``now``); windows are measured at its ``Timestamp`` as always, and the order is
what the order data says today. The answer is compared with the row's
``Decision`` cell: a row flips when the two differ. Rows the worker never
decided (a blank Decision) are compared with "undecided"; rows whose order
cannot be read are counted apart and never guessed.

``load_policy_file`` reads the policy to try from a TOML file: either a
``[policy]`` table (the config file itself) or the policy's keys at the top.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sheetqueue.config.errors import InputError, OrderSourceError
from sheetqueue.config.policy import Policy
from sheetqueue.sheets.model import Request
from sheetqueue.sheets.orders import Order
from sheetqueue.sheets.times import parse_time
from sheetqueue.worker.eligibility import decide

__all__ = ["Flip", "ReplayReport", "load_policy_file", "replay"]

UNDECIDED = "undecided"

FindOrder = Callable[[str, str], Order | None]


@dataclass(frozen=True, slots=True)
class Flip:
    """One request the changed policy would decide differently."""

    request_id: str
    type: str
    order_id: str
    status: str
    was: str
    would_be: str
    note: str  # the new decision's sentence for the team


@dataclass
class ReplayReport:
    """The comparison, as ``sheetqueue replay`` prints it."""

    requests: int = 0
    unchanged: int = 0
    unreadable: int = 0  # the order could not be read: not decided again
    changes: Counter[tuple[str, str]] = field(default_factory=Counter)
    flips: list[Flip] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return len(self.flips)

    def as_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "unchanged": self.unchanged,
            "changed": self.changed,
            "unreadable": self.unreadable,
            "changes": [
                {"from": was, "to": now, "count": count}
                for (was, now), count in sorted(self.changes.items(), key=lambda kv: -kv[1])
            ],
            "rows": [
                {
                    "request_id": flip.request_id,
                    "type": flip.type,
                    "order_id": flip.order_id,
                    "status": flip.status,
                    "was": flip.was,
                    "would_be": flip.would_be,
                    "note": flip.note,
                }
                for flip in self.flips
            ],
        }


def replay(
    rows: Sequence[Request],
    find_order: FindOrder,
    policy: Policy,
    now: datetime,
    *,
    since_days: int | None = None,
    zone: tzinfo = UTC,
) -> ReplayReport:
    """Decide ``rows`` again under ``policy``; compare with their Decision cells."""
    report = ReplayReport()
    cutoff = now - timedelta(days=since_days) if since_days is not None else None
    for request in rows:
        if request.parsed_type is None:
            continue
        asked = parse_time(request.timestamp, zone)
        if cutoff is not None and (asked is None or asked < cutoff):
            continue
        report.requests += 1
        try:
            order = find_order(request.order_id, request.email)
        except OrderSourceError:
            report.unreadable += 1
            continue
        checked = parse_time(request.checked_at, zone) or now
        decision = decide(request, order, policy, min(checked, now), zone)
        was = request.decision.strip() or UNDECIDED
        if decision.cell == was:
            report.unchanged += 1
            continue
        report.changes[(was, decision.cell)] += 1
        report.flips.append(
            Flip(
                request_id=request.request_id.strip(),
                type=request.type.strip(),
                order_id=request.order_id.strip(),
                status=request.status.strip() or "Pending",
                was=was,
                would_be=decision.cell,
                note=decision.note,
            )
        )
    return report


def load_policy_file(path: Path) -> Policy:
    """The policy in a TOML file, or InputError naming the file and what is wrong."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"--policy: no file {str(path)!r}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"--policy: cannot read {str(path)!r} ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"--policy: {str(path)!r} is not valid TOML ({exc})") from None
    table = data.get("policy", data)
    if not isinstance(table, dict):
        raise InputError(f"--policy: [policy] in {str(path)!r} must be a table")
    try:
        return Policy.model_validate(table)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = ".".join(str(part) for part in error["loc"]) or "policy"
        raise InputError(f"--policy: {name}: {error['msg']}") from None
