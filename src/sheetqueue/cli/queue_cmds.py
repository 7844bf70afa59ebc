"""Queue commands: record, list, set-status, log, import-orders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from sheetqueue.bot_actions.record import parse_new_request, record_request
from sheetqueue.bot_actions.team import set_status
from sheetqueue.cli import app, emit_json, fail
from sheetqueue.cli.common import (
    JsonFlag,
    ShopFlag,
    console,
    log_table,
    queue_table,
    settings_and_store,
    shop_settings_of,
)
from sheetqueue.config.clock import utc_now
from sheetqueue.config.errors import InputError, SheetqueueError
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.model import Request, Status
from sheetqueue.sheets.order_mapping import mapping_of
from sheetqueue.sheets.orders import read_order_file
from sheetqueue.worker.links import link_for, with_link
from sheetqueue.worker.retention import retention_problem


@app.command()
def record(
    type_: Annotated[str, typer.Option("--type", help="cancellation, refund, return, ...")],
    email: Annotated[str, typer.Option("--email", help="The shopper's email on the order.")],
    order: Annotated[
        str, typer.Option("--order", help="The order number, e.g. ORD-1001 (not for unsubscribe).")
    ] = "",
    reason: Annotated[str, typer.Option(help="Why, in the shopper's words.")] = "",
    details: Annotated[str, typer.Option(help="Extra details as a JSON object.")] = "",
    conversation: Annotated[str, typer.Option(help="The bot's conversation ID.")] = "",
    channel: Annotated[str, typer.Option(help="chat, email, voice, ...")] = "",
    phone: Annotated[str, typer.Option(help="The shopper's phone, for SMS.")] = "",
    language: Annotated[str, typer.Option(help="The shopper's language: en, es, de, ...")] = "",
    as_json: JsonFlag = False,
    shop: ShopFlag = None,
) -> None:
    """Record one request from a shopper; prints its Request ID."""
    try:
        parsed_details: Any = ""
        if details:
            try:
                parsed_details = json.loads(details)
            except json.JSONDecodeError as exc:
                raise InputError(f"details: not valid JSON ({exc.msg})") from None
            if not isinstance(parsed_details, dict):
                raise InputError('details: must be a JSON object, e.g. \'{"sku": "TEE-1"}\'')
        new = parse_new_request(
            {
                "type": type_,
                "order_id": order,
                "email": email,
                "reason": reason,
                "details": parsed_details,
                "conversation_id": conversation,
                "channel": channel,
                "phone": phone,
                "language": language,
            },
            complete=True,
        )
        with settings_and_store(shop) as (settings, store):
            problem = retention_problem(new.details, settings.policy)
            if problem:
                raise InputError(problem)
            result = record_request(store, new, utc_now())
        link = link_for(settings.links, new.type)
        result = result.model_copy(
            update={"link": link, "message": with_link(result.message, new.type, link)}
        )
    except SheetqueueError as error:
        raise fail(error, as_json=as_json) from None
    if as_json:
        emit_json(result.model_dump(exclude={"created"} | (set() if link else {"link"})))
    else:
        typer.echo(result.request_id)
        console.print(escape(result.message), style="dim", highlight=False)


@app.command("list")
def list_requests(
    status: Annotated[str, typer.Option(help="Only requests with this status.")] = "",
    as_json: JsonFlag = False,
    shop: ShopFlag = None,
) -> None:
    """Show the queue."""
    try:
        wanted = _parse_status(status) if status else None
        with settings_and_store(shop) as (settings, store):
            rows = [stored.request for stored in store.read_requests()]
    except SheetqueueError as error:
        raise fail(error, as_json=as_json) from None
    if wanted is not None:
        rows = [row for row in rows if row.parsed_status == wanted]
    if as_json:
        emit_json([_dumped(row, settings) for row in rows])
    else:
        console.print(queue_table(rows, title=f"Requests ({len(rows)})"))


def _dumped(row: Request, settings: Settings) -> dict[str, str]:
    """A request as JSON: the canonical columns, and ``label`` when the Label column is read."""
    dumped = row.model_dump()
    if settings.label_source != "column":
        dumped.pop("label")
    return dumped


@app.command("set-status")
def set_status_command(
    request_id: Annotated[str, typer.Argument(help="The Request ID, e.g. REQ-7K3M...")],
    status: Annotated[str, typer.Argument(help="Approved, In Progress, Done, Rejected, ...")],
    note: Annotated[str, typer.Option(help="A note for the team (Team Note).")] = "",
    message: Annotated[
        str, typer.Option("--message", help="Words for the shopper (Shopper Message).")
    ] = "",
    label: Annotated[
        str, typer.Option("--label", help="A return label: its link, then tracking and carrier.")
    ] = "",
    as_json: JsonFlag = False,
    shop: ShopFlag = None,
) -> None:
    """Change a request's status as a team member would in the sheet."""
    try:
        wanted = _parse_status(status)
        with settings_and_store(shop) as (settings, store):
            if label and settings.label_source != "column":
                raise InputError(
                    "--label: the Label column is read only with SHEETQUEUE_LABEL_SOURCE=column"
                )
            updated = set_status(
                store, request_id, wanted, team_note=note, shopper_message=message, label=label
            )
    except SheetqueueError as error:
        raise fail(error, as_json=as_json) from None
    if as_json:
        emit_json(_dumped(updated, settings))
    else:
        typer.echo(f"{updated.request_id}: {updated.status}")


@app.command("import-orders")
def import_orders(
    file: Annotated[Path, typer.Argument(help="A .json (array) or .csv file of orders.")],
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Say what would load and every line that cannot; write nothing."
        ),
    ] = False,
    as_json: JsonFlag = False,
    shop: ShopFlag = None,
) -> None:
    """Load orders into the store's Orders tab (replacing it), all or nothing."""
    try:
        if dry_run:
            settings = shop_settings_of(shop)
            found = read_order_file(file, settings.zone, mapping_of(settings), settings.locale)
        else:
            with settings_and_store(shop) as (settings, store):
                found = read_order_file(file, settings.zone, mapping_of(settings), settings.locale)
                if found.problems:
                    raise InputError(_refusal(file, found.problems))
                count = store.replace_orders(
                    [_order_record(order.model_dump(mode="json")) for order in found.orders]
                )
    except SheetqueueError as error:
        raise fail(error, as_json=as_json) from None
    if dry_run:
        _report_dry_run(found.orders, found.problems, as_json=as_json)
        if found.problems:
            raise typer.Exit(2)
        return
    if as_json:
        emit_json({"imported": count})
    else:
        typer.echo(f"imported {count} orders")


def _refusal(file: Path, problems: tuple[str, ...]) -> str:
    shown = "; ".join(problems[:5])
    more = f"; and {len(problems) - 5} more (see --dry-run)" if len(problems) > 5 else ""
    return f"{file}: nothing imported, {len(problems)} cannot be read: {shown}{more}"


def _order_record(record: dict[str, Any]) -> dict[str, Any]:
    """An order as the Orders tab holds it: no street (city and postal code only)."""
    record.pop("shipping_address", None)
    return record


def _report_dry_run(orders: Any, problems: tuple[str, ...], *, as_json: bool) -> None:
    if as_json:
        emit_json(
            {
                "would_import": len(orders),
                "orders": [order.order_id for order in orders],
                "problems": list(problems),
            }
        )
        return
    typer.echo(f"would import {len(orders)} orders: {', '.join(o.order_id for o in orders)}")
    for problem in problems:
        typer.echo(f"cannot import {problem}", err=True)
    if problems:
        typer.echo(f"{len(problems)} cannot be read: a real import would load nothing", err=True)


def _parse_status(text: str) -> Status:
    found = Status.parse(text) if text.strip() else None
    if found is None:
        names = ", ".join(s.value for s in Status)
        raise InputError(f"status: unknown status {text!r}; use one of {names}")
    return found


@app.command("log")
def show_log(
    request_id: Annotated[str, typer.Option("--request", help="Only this request.")] = "",
    as_json: JsonFlag = False,
    shop: ShopFlag = None,
) -> None:
    """Show the audit log: every status change, by the worker or the team."""
    try:
        with settings_and_store(shop) as (_settings, store):
            entries = store.read_log()
    except SheetqueueError as error:
        raise fail(error, as_json=as_json) from None
    if request_id:
        entries = [entry for entry in entries if entry.request_id == request_id.strip()]
    if as_json:
        emit_json([entry.model_dump() for entry in entries])
        return
    console.print(log_table(entries, title=f"Log ({len(entries)})"))
