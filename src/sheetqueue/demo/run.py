"""``sheetqueue demo``: the whole loop, offline, on sample data.

Sample orders, one request of each type recorded through the real action
code, one worker pass, the queue; then a team member marks one request Done,
a second pass tells that shopper, and the messages are shown.
"""

from __future__ import annotations

import mailbox
import shutil
from datetime import datetime, timedelta
from email.message import Message
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sheetqueue.bootstrap import build_worker, open_store
from sheetqueue.bot_actions.record import parse_new_request, record_request
from sheetqueue.bot_actions.team import set_status
from sheetqueue.cli.common import queue_table
from sheetqueue.config.settings import Settings
from sheetqueue.demo.data import DEMO_REQUESTS, demo_orders
from sheetqueue.sheets.model import Status
from sheetqueue.sheets.store import Store

__all__ = ["run_demo"]


def demo_settings(folder: Path, **extra: object) -> Settings:
    """Settings for a demo living entirely in ``folder``."""
    return Settings(
        local_path=folder / "queue.db",
        state_path=folder / "state.db",
        notify=[f"maildir:{folder / 'outbox'}"],
        orders="tab:Orders",
        store_name="Tee Shop (demo)",
        mail_from="help@teeshop.example",
        **extra,  # type: ignore[arg-type]
    )


def run_demo(settings: Settings, folder: Path, console: Console, now: datetime) -> Store:
    """Play the loop on a fresh store; returns the store (open) for callers to inspect."""
    store = open_store(settings)
    orders = demo_orders(now)
    store.replace_orders(orders)
    store.ensure_header()
    console.print(f"[bold]1. Sample orders[/] ({len(orders)}) in the Orders tab")
    emails = {order["order_id"]: order["email"] for order in orders}
    recorded = Table("Request ID", "Type", "Order", "What the bot says", title="2. Recorded")
    for n, template in enumerate(DEMO_REQUESTS):
        data = {
            **template,
            "email": emails[template["order_id"]],
            "conversation_id": f"demo-{n}",
            "channel": "chat",
        }
        result = record_request(store, parse_new_request(data), now)
        recorded.add_row(
            result.request_id,
            template["type"],
            template["order_id"],
            escape(result.message.split(". Your reference")[0] + "."),
        )
    console.print(recorded)

    worker = build_worker(settings, store)
    try:
        report = worker.run_pass(now + timedelta(minutes=1))
        console.print(f"[bold]3. Worker pass:[/] {report.summary()}")
        rows = [stored.request for stored in store.read_requests()]
        console.print(queue_table(rows, title="The queue after the pass"))
        returned = next(row for row in rows if row.type == "return")
        set_status(store, returned.request_id, Status.DONE, team_note="Label sent, item back")
        console.print(f"[bold]4. The team marks {returned.request_id} Done[/]")
        report = worker.run_pass(now + timedelta(minutes=2))
        console.print(f"[bold]5. Second pass:[/] {report.summary()}")
    finally:
        worker.ledger.close()
    _show_messages(folder / "outbox", console)
    if settings.backend == "local":
        console.print(
            f"\nFiles are in {folder}/: queue.db (the queue), outbox/ (the messages). "
            "Try: sheetqueue list, sheetqueue tick, sheetqueue set-status ID Done "
            f"(with SHEETQUEUE_LOCAL_PATH={folder / 'queue.db'})."
        )
    else:
        console.print(
            f"\nThe sheet lived in the emulator for this run; the messages are in {folder}/outbox/."
        )
    return store


def _show_messages(outbox: Path, console: Console) -> None:
    if not outbox.exists():
        console.print("6. No messages were sent.")
        return
    box = mailbox.Maildir(outbox, create=False)
    table = Table("To", "Subject", "Says", title=f"6. Messages to shoppers ({len(box)})")
    messages: list[Message] = sorted(box, key=lambda m: str(m["Date"]))
    for message in messages:
        text = _plain_text(message)
        lines = [line for line in text.splitlines() if line.strip()]
        first = next((line for line in lines if not line.startswith(("Hello", "Hi"))), "")
        table.add_row(str(message["To"]), escape(str(message["Subject"])), escape(first))
    console.print(table)


def _plain_text(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload.decode(part.get_content_charset() or "utf-8", "replace")
    return ""


def fresh_folder(folder: Path) -> Path:
    """Empty the demo folder so every run starts from nothing."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder
