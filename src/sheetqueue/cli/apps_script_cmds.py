"""``sheetqueue apps-script``: print the Apps Script companion filled in for this shop."""

from __future__ import annotations

from typing import Annotated

import typer

from sheetqueue.cli import app, fail
from sheetqueue.cli.common import ShopFlag
from sheetqueue.companion import (
    INSTALL_STEPS,
    check_public_url,
    filled_script,
    manifest_text,
)
from sheetqueue.config.errors import ConfigError, SheetqueueError
from sheetqueue.config.loading import load_settings
from sheetqueue.config.logs import configure_logging
from sheetqueue.shops import shop_settings


@app.command("apps-script")
def apps_script_command(
    url: Annotated[
        str | None,
        typer.Option(help="Address serve is reached at (default: SHEETQUEUE_PUBLIC_URL)."),
    ] = None,
    guide: Annotated[
        bool, typer.Option("--guide", help="Print only the four install steps.")
    ] = False,
    manifest: Annotated[
        bool, typer.Option("--manifest", help="Print appsscript.json instead of Code.gs.")
    ] = False,
    shop: ShopFlag = None,
) -> None:
    """Print Code.gs with this shop's URL and secret filled in; the install steps go to stderr."""
    if guide:
        typer.echo(INSTALL_STEPS, nl=False)
        return
    if manifest:
        typer.echo(manifest_text(), nl=False)
        return
    try:
        base = load_settings()
        settings = shop_settings(base, shop)
        if settings.log_level:
            configure_logging(settings.log_level)
        if url is not None:
            address = check_public_url(url, source="--url")
        elif settings.public_url:
            address = check_public_url(settings.public_url, source="SHEETQUEUE_PUBLIC_URL")
        else:
            raise ConfigError(
                "SHEETQUEUE_PUBLIC_URL: not set; set it (or pass --url) to the https:// address"
                " serve is reached at, e.g. https://queue.example.com"
            )
        if shop is not None and base.shops is not None:  # serve answers it under /shops/<name>
            address = f"{address.rstrip('/')}/shops/{shop}"
        secret = settings.sheet_events_secret.get_secret_value()
        if not secret:
            raise ConfigError(
                "SHEETQUEUE_SHEET_EVENTS_SECRET: not set; set it to a long random value"
                " (e.g. the output of `openssl rand -hex 32`), the same for serve"
            )
        script = filled_script(address, secret)
    except SheetqueueError as error:
        raise fail(error) from None
    typer.echo(script, nl=False)
    typer.echo(INSTALL_STEPS, err=True, nl=False)
