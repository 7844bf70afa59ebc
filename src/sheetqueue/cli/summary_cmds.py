"""``sheetqueue summary``: the team's picture of the queue, as the Summary tab holds it."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from sheetqueue.cli import app, emit_json, fail
from sheetqueue.cli.common import JsonFlag, ShopFlag, console, settings_and_store
from sheetqueue.config.clock import utc_now
from sheetqueue.config.errors import SheetqueueError
from sheetqueue.worker.summary import build_summary, columns_after


@app.command("summary")
def summary_command(as_json: JsonFlag = False, shop: ShopFlag = None) -> None:
    """Show counts by status and type, the oldest open request, overdue ones, lost notices."""
    try:
        with settings_and_store(shop) as (settings, store):
            rows = store.read_requests()
            table = build_summary(
                columns_after(rows, {}),
                utc_now(),
                review_after_days=settings.review_after_days,
                zone=settings.zone,
            )
    except SheetqueueError as error:
        raise fail(error, as_json=as_json) from None
    if as_json:
        emit_json(table)
        return
    shown = Table(show_header=False, box=None, pad_edge=False)
    for keep in (False, True, False, True, False):  # IDs and times are never cut
        shown.add_column(no_wrap=keep, overflow="fold")
    for row in table[1:]:
        shown.add_row(*(escape(cell) for cell in row))
    console.print(shown)
