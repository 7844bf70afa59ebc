"""The ``sheetqueue`` command line: one thin layer that wires settings, stores and actions.

Every command builds its settings at start; a :class:`SheetqueueError` becomes
one line on stderr (and ``{"error": ...}`` on stdout under ``--json``) with
the documented exit code: 0 ok, 2 bad input or configuration, 1 anything else.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from sheetqueue.config.errors import SheetqueueError
from sheetqueue.config.logs import configure_logging

__all__ = ["app", "emit_json", "fail", "main", "register_commands"]

app = typer.Typer(
    name="sheetqueue",
    help="Order requests from a support bot, queued in a shared sheet and re-checked by a worker.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(wanted: bool) -> None:
    if wanted:
        from sheetqueue import __version__

        typer.echo(f"sheetqueue {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Order requests from a support bot, queued in a shared sheet and re-checked by a worker."""


class CommandFailed(Exception):
    """Raised by commands to exit with a message after printing JSON themselves."""

    def __init__(self, error: SheetqueueError, as_json: bool) -> None:
        super().__init__(str(error))
        self.error = error
        self.as_json = as_json


def emit_json(document: Any) -> None:
    """Print one JSON document on stdout."""
    typer.echo(json.dumps(document, ensure_ascii=False, indent=2, default=str))


def fail(error: SheetqueueError, *, as_json: bool = False) -> CommandFailed:
    """Wrap an error so ``main`` prints it the documented way."""
    return CommandFailed(error, as_json)


def register_commands() -> None:
    """Import the command modules; each adds its commands to ``app``."""
    from sheetqueue.cli import (  # noqa: F401
        apps_script_cmds,
        archive_cmds,
        login_cmds,
        ops_cmds,
        order_cmds,
        queue_cmds,
        replay_cmds,
        serve_cmds,
        sheet_cmds,
        shops_cmds,
        summary_cmds,
        worker_cmds,
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    configure_logging("WARNING")
    register_commands()
    try:
        app(args=argv, prog_name="sheetqueue")
    except CommandFailed as failure:
        if failure.as_json:
            emit_json({"error": failure.error.message})
        typer.echo(f"error: {failure.error.message}", err=True)
        return failure.error.exit_code
    except SheetqueueError as error:
        typer.echo(f"error: {error.message}", err=True)
        return error.exit_code
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else 0 if done.code is None else 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
