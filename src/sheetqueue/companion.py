"""The Apps Script companion: the script the shop pastes into its sheet, filled in.

The files live in the repository's ``apps_script/`` folder and install as
``sheetqueue.apps_script`` (package data). ``Code.gs`` carries two
placeholders, the address of ``serve`` and the shared secret it signs with;
:func:`filled_script` puts the shop's values in their place.
"""

from __future__ import annotations

import json
from importlib.resources import files
from urllib.parse import urlsplit

from sheetqueue.config.errors import ConfigError, SheetqueueError

__all__ = ["INSTALL_STEPS", "check_public_url", "filled_script", "manifest_text", "script_text"]

_URL_PLACEHOLDER = "'__SHEETQUEUE_URL__'"
_SECRET_PLACEHOLDER = "'__SHEETQUEUE_SECRET__'"  # noqa: S105 (a placeholder, not a secret)
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

INSTALL_STEPS = """\
Install the Apps Script companion in four steps:
1. Save the script: sheetqueue apps-script > Code.gs
2. In the Google Sheet open Extensions > Apps Script, replace everything in the
   editor's Code.gs with the saved file, and save. In Project Settings tick
   "Show appsscript.json manifest file in editor", then replace appsscript.json
   with the output of: sheetqueue apps-script --manifest
3. In the editor pick the function "install" and press Run; accept the
   permissions it asks for (read this spreadsheet, connect to sheetqueue, run
   triggers, see your email address). Running it again changes nothing.
4. Change a Status cell on the Requests tab: within seconds serve logs
   sheet_events.received with accepted 1 (a wrong secret logs sheet_events.refused;
   the editor's Executions page shows any error).
"""


def _resource(name: str) -> str:
    return files("sheetqueue").joinpath("apps_script", name).read_text(encoding="utf-8")


def script_text() -> str:
    """``Code.gs`` as shipped, with its placeholders."""
    return _resource("Code.gs")


def manifest_text() -> str:
    """``appsscript.json``: the V8 runtime and the four permissions the script needs."""
    return _resource("appsscript.json")


def check_public_url(url: str, *, source: str) -> str:
    """The address ``serve`` is reached at: https, or http on this machine only."""
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{source}: {url!r} is not an http(s) URL like https://queue.example.com")
    if parts.query or parts.fragment:
        raise ConfigError(f"{source}: the address may not carry a query or a fragment")
    if parts.scheme == "http" and parts.hostname not in _LOCAL_HOSTS:
        raise ConfigError(
            f"{source}: Google sends the events over the internet, so the address must be"
            " https:// (http:// only for 127.0.0.1 or localhost)"
        )
    return url


def filled_script(url: str, secret: str) -> str:
    """``Code.gs`` with the address and the secret as JavaScript string literals."""
    text = script_text()
    for placeholder in (_URL_PLACEHOLDER, _SECRET_PLACEHOLDER):
        if text.count(placeholder) != 1:
            raise SheetqueueError(f"the shipped Code.gs lost its {placeholder} placeholder")
    # A JSON string is a JavaScript string literal; ensure_ascii keeps the file plain ASCII.
    text = text.replace(_URL_PLACEHOLDER, json.dumps(url))
    return text.replace(_SECRET_PLACEHOLDER, json.dumps(secret))
