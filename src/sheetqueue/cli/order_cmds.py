"""Order commands: lookup (what a verified shopper may see) and eligibility (the bot's answer)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from sheetqueue.bootstrap import CLI_READ_TIMEOUT, open_guard
from sheetqueue.bot_actions.lookup import OrderView, answer_eligibility, lookup_order
from sheetqueue.bot_actions.lookup_guard import LookupGuard
from sheetqueue.bot_actions.order_copy import BotOrders, OrderCopy, read_or_copy
from sheetqueue.cli import app, emit_json, fail
from sheetqueue.cli.common import JsonFlag, ShopFlag, console, settings_and_store
from sheetqueue.config.clock import utc_now
from sheetqueue.config.errors import InputError, SheetqueueError
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.model import RequestType
from sheetqueue.sheets.order_sources import open_order_source
from sheetqueue.sheets.store import Store
from sheetqueue.worker.links import link_for, with_link

_STYLES = {"eligible": "green", "review": "magenta", "ineligible": "red"}
CLI_CLIENT = "cli"
"""The client address the command line's misses are counted under."""


@app.command()
def lookup(
    order: Annotated[str, typer.Option("--order", help="The order number, e.g. ORD-1001.")],
    email: Annotated[str, typer.Option("--email", help="The email on the order.")],
    conversation: Annotated[
        str, typer.Option(help="The bot's conversation ID; failed tries are counted per one.")
    ] = "",
    as_json: JsonFlag = False,
    shop: ShopFlag = None,
) -> None:
    """Show what a verified shopper may see of an order (misses are limited as for the API)."""
    try:
        _require(order=order, email=email)
        with _orders_and_guard(shop) as (settings, orders, guard):
            view = lookup_order(
                orders.source,
                order,
                email,
                conversation,
                guard,
                utc_now(),
                zone=settings.zone,
                client=CLI_CLIENT,
            )
    except SheetqueueError as error:
        raise fail(error, as_json=as_json) from None
    if as_json:
        emit_json({"order": view.public_dict(), **orders.stale_fields})
    else:
        console.print(_order_table(view))
        console.print(escape(view.status_message), highlight=False)
        _say_if_stale(orders)


@app.command()
def eligibility(
    type_: Annotated[str, typer.Option("--type", help="cancellation, refund, return, ...")],
    order: Annotated[str, typer.Option("--order", help="The order number, e.g. ORD-1001.")],
    email: Annotated[str, typer.Option("--email", help="The email on the order.")],
    sku: Annotated[str, typer.Option(help="Check one item of the order only.")] = "",
    damaged: Annotated[bool, typer.Option("--damaged", help="The item is damaged.")] = False,
    as_json: JsonFlag = False,
    shop: ShopFlag = None,
) -> None:
    """Show the decision the bot would get for this request, checked now."""
    try:
        _require(type=type_, order=order, email=email)
        with _orders_and_guard(shop) as (settings, orders, guard):
            answer = answer_eligibility(
                orders.source,
                order,
                email,
                type_,
                settings.policy,
                utc_now(),
                sku=sku,
                damaged=damaged,
                zone=settings.zone,
                guard=guard,
                client=CLI_CLIENT,
            )
            kind = RequestType.parse(type_)
            link = link_for(settings.links, kind)
            if link:
                message = with_link(answer.message, kind, link)
                answer = answer.model_copy(update={"link": link, "message": message})
    except SheetqueueError as error:
        raise fail(error, as_json=as_json) from None
    if as_json:
        emit_json({**answer.model_dump(exclude_none=True), **orders.stale_fields})
        return
    outcome = answer.decision.split(":", 1)[0]
    console.print(f"[{_STYLES.get(outcome, 'white')}]{escape(answer.decision)}[/]")
    console.print(escape(answer.message), highlight=False)
    _say_if_stale(orders)


@contextmanager
def _orders_and_guard(shop: str | None) -> Iterator[tuple[Settings, BotOrders, LookupGuard]]:
    """The settings, the order data and the miss guard a read command checks against."""
    with (
        settings_and_store(shop, CLI_READ_TIMEOUT) as (settings, store),
        closing(open_guard(settings)) as guard,
    ):
        yield settings, _orders(settings, store), guard


def _orders(settings: Settings, store: Store) -> BotOrders:
    """The order data; for the Orders tab, the last good copy when Sheets does not answer."""
    if not settings.orders.startswith("tab:"):
        return BotOrders(open_order_source(settings, store))
    return read_or_copy(store, OrderCopy.beside(settings.state_path), settings.zone, utc_now())


def _say_if_stale(orders: BotOrders) -> None:
    stale = orders.stale_fields
    if stale:
        console.print(
            f"(from the last good copy of the orders, read {stale['as_of']}: "
            "the sheet did not answer)",
            highlight=False,
        )


def _require(**values: str) -> None:
    for name, value in values.items():
        if not value.strip():
            raise InputError(f"--{name}: must not be empty")


def _order_table(view: OrderView) -> Table:
    table = Table(title=f"Order {escape(view.order_id)}", show_header=False, expand=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    shown = view.public_dict()
    for key in (
        "status",
        "order_date",
        "carrier",
        "tracking_number",
        "tracking_url",
        "estimated_delivery",
        "city",
        "postal_code",
        "payment",
    ):
        if key in shown:
            table.add_row(key.replace("_", " "), escape(str(shown[key])))
    if view.total is not None:
        table.add_row("total", f"{view.total:.2f} {escape(view.currency)}")
    for item in view.items:
        price = f" @ {item.price:.2f}" if item.price is not None else ""
        table.add_row("item", f"{item.qty} x {escape(item.name)}{price}")
    return table
