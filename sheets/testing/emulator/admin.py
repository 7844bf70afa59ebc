"""The HTTP control API under ``/_emulator/``, for tests that run the emulator in a subprocess.

| route | body | effect |
| --- | --- | --- |
| ``GET /_emulator/health`` | | ``{"ok": true}`` |
| ``POST /_emulator/reset`` | | drop spreadsheets, faults, quotas, log |
| ``POST /_emulator/spreadsheets`` | ``{title, tabs, spreadsheet_id?}`` | ``{"spreadsheetId"}`` |
| ``GET /_emulator/spreadsheets/{id}/tabs/{tab}/values`` | ``?render=`` | ``{"values"}`` |
| ``POST /_emulator/spreadsheets/{id}/tabs/{tab}/edits`` | ``{"op": ...}`` | a hand edit |
| ``POST /_emulator/faults`` | ``{rate, codes, delay, seed}`` | random faults / delay |
| ``POST /_emulator/faults/next`` | ``{count, code}`` | fail the next calls |
| ``POST /_emulator/faults/appends`` | ``{count, land_after, answer_after}`` | slow appends |
| ``DELETE /_emulator/faults`` | | no faults |
| ``POST /_emulator/quota`` | ``{read_per_minute, write_per_minute}`` | quotas |
| ``GET /_emulator/log`` / ``DELETE`` | | ``{"calls", "counts"}`` / forget |

Hand-edit ops: ``set_cell {row, col, value}``, ``sort {col, descending?, header_rows?}``,
``insert_rows {before_row, count?}``, ``delete_rows {row, count?}``, ``append_row {values}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from sheetqueue.sheets.testing.emulator.errors import ApiError
from sheetqueue.sheets.testing.emulator.service import SheetsService

__all__ = ["handle_admin"]


def handle_admin(
    service: SheetsService, method: str, parts: list[str], query: Mapping[str, str], body: Any
) -> tuple[int, Any]:
    """Answer one control call; ``parts`` is the path after ``/_emulator/`` split on ``/``."""
    body = body if isinstance(body, dict) else {}
    try:
        return 200, _route(service, method.upper(), parts, query, body)
    except ApiError as exc:
        return exc.code, exc.body()
    except (ValueError, TypeError, KeyError) as exc:
        return 400, {"error": {"code": 400, "message": str(exc), "status": "INVALID_ARGUMENT"}}


def _route(
    service: SheetsService,
    method: str,
    parts: list[str],
    query: Mapping[str, str],
    body: dict[str, Any],
) -> Any:
    route = (method, *parts[:1])
    if route == ("GET", "health"):
        return {"ok": True}
    if route == ("POST", "reset"):
        service.reset()
        return {"ok": True}
    if parts[:1] == ["log"]:
        return _log(service, method)
    if parts[:1] == ["faults"]:
        return _faults(service, method, parts[1:], body)
    if route == ("POST", "quota"):
        service.set_quota(body.get("read_per_minute"), body.get("write_per_minute"))
        return {"ok": True}
    if parts[:1] == ["spreadsheets"]:
        return _spreadsheets(service, method, parts[1:], query, body)
    raise KeyError(f"unknown control route {method} /_emulator/{'/'.join(parts)}")


def _log(service: SheetsService, method: str) -> Any:
    if method == "DELETE":
        service.reset_log()
        return {"ok": True}
    return {"calls": [asdict(call) for call in service.calls], "counts": service.counts()}


def _faults(service: SheetsService, method: str, rest: list[str], body: dict[str, Any]) -> Any:
    if method == "DELETE":
        service.set_faults()
        with service.lock:
            service.faults.clear()
    elif rest == ["next"]:
        service.fail_next(int(body.get("count", 1)), int(body.get("code", 503)))
    elif rest == ["appends"]:
        service.slow_appends(
            int(body.get("count", 1)),
            float(body.get("land_after", 0.0)),
            float(body.get("answer_after", 0.0)),
        )
    else:
        seed = body.get("seed")
        service.set_faults(
            float(body.get("rate", 0.0)),
            tuple(int(c) for c in body.get("codes", (429, 500, 503))),
            float(body.get("delay", 0.0)),
            None if seed is None else int(seed),
        )
    return {"ok": True}


def _spreadsheets(
    service: SheetsService,
    method: str,
    rest: list[str],
    query: Mapping[str, str],
    body: dict[str, Any],
) -> Any:
    if not rest and method == "POST":
        book_id = service.create_spreadsheet(
            str(body.get("title", "Emulated spreadsheet")),
            body.get("tabs") or ["Sheet1"],
            body.get("spreadsheet_id"),
            bool(body.get("user_entered", False)),
            locale=str(body.get("locale") or "en_US"),
            time_zone=str(body.get("time_zone") or "Etc/GMT"),
        )
        return {"spreadsheetId": book_id}
    if len(rest) == 4 and rest[1] == "tabs":
        book_id, tab, action = rest[0], rest[2], rest[3]
        if action == "values" and method == "GET":
            render = query.get("render", "FORMATTED_VALUE")
            return {"values": service.values(book_id, tab, render)}
        if action == "edits" and method == "POST":
            return _edit(service, book_id, tab, body)
    raise KeyError(f"unknown spreadsheets control route {method} {'/'.join(rest)}")


def _edit(service: SheetsService, book_id: str, tab: str, body: dict[str, Any]) -> Any:
    op = body.get("op")
    if op == "set_cell":
        service.edit_cell(book_id, tab, int(body["row"]), body["col"], body.get("value"))
    elif op == "sort":
        service.sort_rows(
            book_id,
            tab,
            body["col"],
            bool(body.get("descending", False)),
            int(body.get("header_rows", 1)),
        )
    elif op == "insert_rows":
        service.insert_blank_rows(book_id, tab, int(body["before_row"]), int(body.get("count", 1)))
    elif op == "delete_rows":
        service.delete_rows(book_id, tab, int(body["row"]), int(body.get("count", 1)))
    elif op == "append_row":
        return {"row": service.append_row(book_id, tab, list(body["values"]))}
    else:
        raise ValueError(f"unknown edit op {op!r}")
    return {"ok": True}
