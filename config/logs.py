"""Structured logs: stable event names, JSON off a terminal, personal data masked.

``configure_logging()`` is called once by the entry point. Every event passes
through :func:`mask_personal_data`, so an email address or phone number that
reaches a log line is masked wherever it came from, and secrets are dropped.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

__all__ = ["LEVELS", "configure_logging", "mask_email", "mask_personal_data", "mask_phone"]

_EMAIL = re.compile(
    r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-])[A-Za-z0-9.-]*\.([A-Za-z]{2,})"
)
_PHONE = re.compile(r"\+?\d[\d ().-]{6,}\d")
_SECRET_KEYS = ("token", "password", "secret", "authorization", "credentials")


def mask_email(text: str) -> str:
    """``ana@example.com`` becomes ``a***@e***.com``."""
    return _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}***.{m.group(3)}", text)


def mask_phone(text: str) -> str:
    """Keep the last two digits of anything that looks like a phone number."""

    def _mask(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        if len(digits) < 8:
            return match.group(0)
        return "***" + digits[-2:]

    return _PHONE.sub(_mask, text)


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_phone(mask_email(value))
    if isinstance(value, dict):
        return {key: _mask_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_mask_value(item) for item in value]
    return value


def mask_personal_data(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A structlog processor: mask emails and phones, drop anything secret."""
    for key in list(event_dict):
        if any(word in key.lower() for word in _SECRET_KEYS):
            event_dict[key] = "[hidden]"
        elif key not in ("timestamp", "level"):
            event_dict[key] = _mask_value(event_dict[key])
    return event_dict


def _stderr_logger(*_args: Any) -> structlog.PrintLogger:
    """A logger on whatever ``sys.stderr`` is now (tests and daemons may swap it)."""
    return structlog.PrintLogger(file=sys.stderr)


class _StderrHandler(logging.Handler):
    """Writes each formatted stdlib record to whatever ``sys.stderr`` is at that moment."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:  # a log line must never take the process down
            self.handleError(record)


LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

_QUIET_LIBRARIES = {"apscheduler": "WARNING", "uvicorn.access": "WARNING", "urllib3": "WARNING"}


def configure_logging(level: str = "INFO", *, json: bool | None = None) -> None:
    """Send structlog events, and stdlib records (APScheduler, uvicorn), to stderr.

    Readable on a terminal, JSON otherwise: one line per event either way,
    every line through the same masking. ``level`` is one of :data:`LEVELS`.
    """
    number = logging.getLevelName(level.upper())
    if not isinstance(number, int):
        number = logging.INFO
    as_json = not sys.stderr.isatty() if json is None else json
    renderer: Any = (
        structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer()
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        mask_personal_data,
    ]
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(number),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
    handler = _StderrHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(number)
    for name, floor in _QUIET_LIBRARIES.items():
        logging.getLogger(name).setLevel(max(number, logging.getLevelName(floor)))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        named = logging.getLogger(name)
        named.handlers.clear()
        named.propagate = True
        named.setLevel(logging.NOTSET)  # uvicorn.Config sets its own; the root decides
