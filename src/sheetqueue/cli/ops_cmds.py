"""Operations: demo, check and migrate."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from sheetqueue.cli import app, fail
from sheetqueue.cli.common import console
from sheetqueue.config.clock import utc_now
from sheetqueue.config.errors import InputError, SheetqueueError
from sheetqueue.config.settings import Settings, load_settings
from sheetqueue.demo.run import demo_settings, fresh_folder, run_demo
from sheetqueue.preflight import check_settings
from sheetqueue.sheets.order_sources import open_order_source
from sheetqueue.worker.notify.factory import notifiers_from_settings
from sheetqueue.worker.notify.template_check import template_problems


@app.command()
def demo(
    backend: Annotated[str, typer.Option(help="local, or gsheets (the emulator)")] = "local",
    folder: Annotated[Path, typer.Option("--dir", help="Where the demo keeps its files.")] = Path(
        "sheetqueue-demo"
    ),
) -> None:
    """Play the whole loop offline on sample data: record, pass, queue, messages."""
    try:
        if backend not in ("local", "gsheets"):
            raise InputError(f"backend: use local or gsheets, not {backend!r}")
        fresh_folder(folder)
        if backend == "gsheets":
            from sheetqueue.demo.gsheets import run_gsheets_demo

            run_gsheets_demo(folder, console, utc_now())
            return
        store = run_demo(demo_settings(folder), folder, console, utc_now())
        store.close()
    except SheetqueueError as error:
        raise fail(error) from None


@app.command()
def check() -> None:
    """Validate the configuration and reach the store, order source and notifiers."""
    failures = 0

    def report(part: str, problem: str | None) -> None:
        nonlocal failures
        if problem is None:
            console.print(f"[green]ok[/]    {part}")
        else:
            failures += 1
            console.print(f"[red]fail[/]  {part}: {problem}", highlight=False)

    try:
        settings = load_settings()
        check_settings(settings)
    except SheetqueueError as error:
        raise fail(error) from None
    report("configuration", None)
    templates: list[str | None] = [*template_problems(settings.templates_dir)] or [None]
    for problem in templates:
        report("templates", problem)
    from sheetqueue.bootstrap import CHECK_TIMEOUT, open_shared_state, open_store

    try:
        state = open_shared_state(settings)
        report("state: " + ("PostgreSQL, schema current" if state else "local file"), None)
    except SheetqueueError as error:
        report("state", error.message)
        raise typer.Exit(2) from None

    try:
        store = open_store(settings, read_timeout=CHECK_TIMEOUT)
        rows = store.read_requests()
        report(f"store ({settings.backend}): {len(rows)} requests", None)
    except SheetqueueError as error:
        report(f"store ({settings.backend})", error.message)
        raise typer.Exit(1) from None
    try:
        source = open_order_source(settings, store)
        source.get("__sheetqueue_check__", "check@example.com")
        report(f"order source ({settings.orders})", None)
    except SheetqueueError as error:
        report(f"order source ({settings.orders})", error.message)
    _check_notifiers(settings, report)
    store.close()
    if failures:
        raise typer.Exit(1)


def _check_notifiers(settings: Settings, report: Callable[[str, str | None], None]) -> None:
    try:
        notifiers = notifiers_from_settings(settings, clock=utc_now)
    except SheetqueueError as error:
        report("notifiers", error.message)
        return
    for notifier in notifiers:
        try:
            notifier.check()
            report(f"notifier {notifier.name}", None)
        except SheetqueueError as error:
            report(f"notifier {notifier.name}", error.message)


@app.command()
def migrate() -> None:
    """Create or upgrade the PostgreSQL state schema (SHEETQUEUE_STATE_URL)."""
    from sheetqueue.config.errors import ConfigError
    from sheetqueue.sheets.pg_state import migrate as apply

    try:
        settings = load_settings()
        url = settings.state_url.get_secret_value()
        if not url:
            raise ConfigError(
                "SHEETQUEUE_STATE_URL: not set; the local state file needs no migration"
            )
        before, after = apply(url)
    except SheetqueueError as error:
        raise fail(error) from None
    if before == after:
        typer.echo(f"state schema: version {after}, already current")
    else:
        typer.echo(f"state schema: version {before} -> {after}")
