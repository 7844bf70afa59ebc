"""Operations: demo, check and migrate."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sheetqueue.cli import app, emit_json, fail
from sheetqueue.cli.common import JsonDocFlag, ShopFlag, console
from sheetqueue.config.clock import utc_now
from sheetqueue.config.errors import InputError, SheetqueueError
from sheetqueue.config.loading import load_settings
from sheetqueue.config.settings import Settings
from sheetqueue.preflight import check_settings
from sheetqueue.sheets.order_sources import open_order_source
from sheetqueue.sheets.store import Store
from sheetqueue.shops import shop_settings
from sheetqueue.worker.notify.factory import notifiers_from_settings
from sheetqueue.worker.notify.template_check import template_problems

if TYPE_CHECKING:
    from sheetqueue.sheets.gsheets_api import SignIn


@app.command()
def demo(
    backend: Annotated[str, typer.Option(help="local, or gsheets (the emulator)")] = "local",
    folder: Annotated[Path, typer.Option("--dir", help="Where the demo keeps its files.")] = Path(
        "sheetqueue-demo"
    ),
) -> None:
    """Play the whole loop offline on sample data: record, pass, queue, messages."""
    from sheetqueue.demo.run import demo_settings, fresh_folder, run_demo

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


class _Checks:
    """What ``check`` found: printed line by line, or kept for one JSON document."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.items: list[dict[str, object]] = []
        self.found: dict[str, object] = {"account": None, "spreadsheet": None}

    def __call__(self, part: str, problem: str | None, detail: str = "") -> None:
        self.items.append({"name": part, "ok": problem is None, "message": problem or detail})
        if self.as_json:
            return
        if problem is None:
            text = f"{part}: {detail}" if detail else part
            console.print(f"[green]ok[/]    {text}", highlight=False)
        else:
            console.print(f"[red]fail[/]  {part}: {problem}", highlight=False)

    @property
    def failed(self) -> bool:
        return any(not item["ok"] for item in self.items)

    def exit(self, code: int) -> typer.Exit:
        """The exit with ``code``, after the JSON document under ``--json``."""
        if self.as_json:
            emit_json({"ok": not self.failed and code == 0, **self.found, "checks": self.items})
        return typer.Exit(code)


@app.command()
def check(as_json: JsonDocFlag = False, shop: ShopFlag = None) -> None:
    """Validate the configuration and reach the store, order source and notifiers.

    Says who the Sheets calls act as and the title of the spreadsheet reached;
    ``--json`` prints one document (``ok``, ``account``, ``spreadsheet``,
    ``checks``: each ``name``, ``ok``, ``message``) instead of lines. Exit 2
    on bad configuration or state, 1 when any part cannot be reached.
    """
    report = _Checks(as_json)
    try:
        settings = shop_settings(load_settings(), shop)
        check_settings(settings)
    except SheetqueueError as error:
        if not as_json:
            raise fail(error) from None
        report("configuration", error.message)
        typer.echo(f"error: {error.message}", err=True)
        raise report.exit(error.exit_code) from None
    report("configuration", None)
    templates: list[str | None] = [*template_problems(settings.templates_dir)] or [None]
    for problem in templates:
        report("templates", problem)
    from sheetqueue.bootstrap import open_shared_state

    try:
        state = open_shared_state(settings)
        report("state", None, "PostgreSQL, schema current" if state else "local file")
    except SheetqueueError as error:
        report("state", error.message)
        raise report.exit(2) from None
    store = _check_store(settings, report)
    _check_archive(settings, report)
    _check_label_column(settings, store, report)
    try:
        source = open_order_source(settings, store)
        source.get("__sheetqueue_check__", "check@example.com")
        report(f"order source ({settings.orders})", None)
    except SheetqueueError as error:
        report(f"order source ({settings.orders})", error.message)
    _check_notifiers(settings, report)
    store.close()
    if report.failed or as_json:
        raise report.exit(1 if report.failed else 0)


def _check_store(settings: Settings, report: _Checks) -> Store:
    """The store, reached: the account it acts as, its rows and the sheet's title."""
    from sheetqueue.bootstrap import CHECK_TIMEOUT, open_store

    part = f"store ({settings.backend})"
    try:
        store = open_store(settings, read_timeout=CHECK_TIMEOUT)
    except SheetqueueError as error:
        report(part, error.message)
        raise report.exit(1) from None
    sign_in = _sign_in(store)
    if sign_in is not None:
        report.found["account"] = sign_in.account
        report("account", None, sign_in.account)
    try:
        rows = store.read_requests()
    except SheetqueueError as error:
        report(part, error.message)
        store.close()
        raise report.exit(1) from None
    title = getattr(store, "title", None)
    if settings.backend == "gsheets":
        report.found["spreadsheet"] = {"id": settings.spreadsheet_id, "title": title or ""}
    where = f" in {title!r}" if title else ""
    report(part, None, f"{len(rows)} requests{where}")
    return store


def _check_archive(settings: Settings, report: _Checks) -> None:
    """The other spreadsheet archived into, when set: reached, and its title."""
    from sheetqueue.bootstrap import CHECK_TIMEOUT, open_archive_api

    try:
        api = open_archive_api(settings, timeout=CHECK_TIMEOUT)
    except SheetqueueError as error:
        report("archive spreadsheet", error.message)
        return
    if api is None:
        return
    try:
        title = str(api.metadata("properties.title").get("properties", {}).get("title", ""))
        report("archive spreadsheet", None, f"{api.spreadsheet_id} {title!r}")
    except SheetqueueError as error:
        report("archive spreadsheet", error.message)
    finally:
        api.close()


def _check_label_column(settings: Settings, store: Store, report: _Checks) -> None:
    """With ``SHEETQUEUE_LABEL_SOURCE=column``: the Requests tab has its Label column."""
    if settings.label_source != "column":
        return
    layout = getattr(store, "layout", None)  # the sheet's header; the local store has the column
    if layout is not None and "label" not in layout.columns:
        report(
            "label source (column)",
            "no column headed 'Label' in the Requests tab: add one and paste each approved "
            "return's label link there (approval emails wait for it)",
        )
        return
    report("label source (column)", None, "the Label column")


def _sign_in(store: object) -> SignIn | None:
    """Who a Google Sheets store's calls act as (None for the local store)."""
    from sheetqueue.sheets.gsheets_api import SignIn

    api = getattr(store, "api", None)
    sign_in = getattr(api, "sign_in", None)
    return sign_in if isinstance(sign_in, SignIn) else None


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
