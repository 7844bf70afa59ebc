"""What sheetqueue signs in to Google with, and which spreadsheet it opens: parsed once.

- :func:`spreadsheet_key` turns ``SHEETQUEUE_SPREADSHEET_ID`` (or a shop's
  ``spreadsheet_id``) into the spreadsheet's key: a plain key, or the URL a
  browser shows (``https://docs.google.com/spreadsheets/d/<key>/edit#gid=0``).
- :func:`read_credentials_file` reads ``SHEETQUEUE_CREDENTIALS_FILE`` and tells
  its kind from its ``type`` field: a service account's JSON key
  (``service_account``) or a signed-in user's refresh token
  (``authorized_user``, what ``sheetqueue login``, ``gspread.oauth()`` and
  ``gcloud auth application-default login`` write). Anything else is a
  :class:`~sheetqueue.config.errors.ConfigError` naming what is missing.

Nothing here talks to Google; the sheets layer builds the credentials.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sheetqueue.config.errors import ConfigError

__all__ = ["CredentialsFile", "read_credentials_file", "spreadsheet_key"]

_KEY = re.compile(r"[A-Za-z0-9_-]+")
_URL = re.compile(
    r"https?://docs\.google\.com/spreadsheets/(?:u/\d+/)?d/(?P<key>[A-Za-z0-9_-]+)(?:[/?#].*)?"
)
_NEEDED = {
    "service_account": ("client_email", "private_key", "token_uri"),
    "authorized_user": ("client_id", "client_secret", "refresh_token"),
}
_NAME = "SHEETQUEUE_CREDENTIALS_FILE"


def spreadsheet_key(text: str) -> str:
    """The spreadsheet key in ``text``: a key as it is, or the key inside a sheet's URL.

    Blank stays blank (the setting is then unset). Raises ValueError for
    anything else, saying what is accepted.
    """
    value = text.strip()
    if not value or _KEY.fullmatch(value):
        return value
    found = _URL.fullmatch(value)
    if found:
        return found.group("key")
    raise ValueError(
        "not a spreadsheet key or URL; give the sheet's URL "
        "(https://docs.google.com/spreadsheets/d/<key>/edit) or the <key> in it"
    )


@dataclass(frozen=True)
class CredentialsFile:
    """A credentials file that names everything its kind needs."""

    path: Path
    kind: Literal["service_account", "authorized_user"]
    info: dict[str, Any] = field(repr=False)

    @property
    def email(self) -> str:
        """The account's address when the file knows it (a user file may not)."""
        key = "client_email" if self.kind == "service_account" else "account"
        return str(self.info.get(key) or "")

    def describe(self) -> str:
        """Who sheetqueue acts as, for messages: never a secret."""
        if self.kind == "service_account":
            return f"service account {self.email}"
        who = f"OAuth user ({self.path})"
        return f"{who} {self.email}" if self.email else who


def read_credentials_file(path: Path) -> CredentialsFile:
    """The credentials file at ``path``, or ConfigError saying what is wrong and what to do."""
    shown = repr(str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not readable"
        raise ConfigError(f"{_NAME}: cannot read {shown}: {reason}") from None
    try:
        data = json.loads(text)
    except ValueError:
        raise ConfigError(
            f"{_NAME}: {shown} is not JSON (a service-account key or an authorized_user file)"
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{_NAME}: {shown} is not a credentials file (not a JSON object)")
    if "installed" in data or "web" in data:
        raise ConfigError(
            f"{_NAME}: {shown} is an OAuth client secrets file, not a sign-in; run "
            f"`sheetqueue login --client-secrets {path}` and use the file it writes"
        )
    kind = data.get("type")
    if kind not in _NEEDED:
        got = f"type {kind!r}" if "type" in data else 'no "type"'
        raise ConfigError(
            f"{_NAME}: {shown} has {got}; use a service account's JSON key "
            '("type": "service_account") or a signed-in user\'s file '
            '("type": "authorized_user", from `sheetqueue login`)'
        )
    missing = [key for key in _NEEDED[kind] if not str(data.get(key) or "").strip()]
    if missing:
        again = (
            "download a new JSON key for the service account"
            if kind == "service_account"
            else "run `sheetqueue login` again"
        )
        raise ConfigError(f'{_NAME}: {shown} ("type": "{kind}") has no "{missing[0]}"; {again}')
    return CredentialsFile(path, kind, data)
