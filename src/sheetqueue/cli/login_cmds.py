"""``sheetqueue login``: sign in as a Google user once, for ``SHEETQUEUE_CREDENTIALS_FILE``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from sheetqueue.cli import app, fail
from sheetqueue.config.errors import SheetqueueError


@app.command()
def login(
    client_secrets: Annotated[
        Path,
        typer.Option(
            "--client-secrets",
            help="The OAuth client's JSON (Google Cloud: an OAuth client ID of type Desktop app).",
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Where to write the sign-in (default ~/.config/sheetqueue/...)."
        ),
    ] = None,
    browser: Annotated[
        bool, typer.Option("--browser/--no-browser", help="Open the URL in a browser here.")
    ] = True,
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for the browser's answer.", min=1)
    ] = 300,
) -> None:
    """Sign in as a Google user once and store the refresh token (an authorized_user file)."""
    from sheetqueue.sheets.google_login import default_login_file
    from sheetqueue.sheets.google_login import login as run_login

    target = out or default_login_file()
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(line_buffering=True)  # the URL must show before the wait

    def announce(url: str) -> None:
        typer.echo("Open this URL in a browser, sign in and allow access to your sheets:")
        typer.echo(url)

    try:
        done = run_login(
            client_secrets, target, open_browser=browser, timeout=timeout, announce=announce
        )
    except SheetqueueError as error:
        raise fail(error) from None
    who = f" as {done.email}" if done.email else ""
    typer.echo(f"Signed in{who}. Wrote {done.path} (readable by you only).")
    typer.echo(f"Use it: export SHEETQUEUE_CREDENTIALS_FILE={done.path}")
    if done.email:
        typer.echo(f"The spreadsheet must be shared with {done.email} (Share -> Editor).")
