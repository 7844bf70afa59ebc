"""``sheetqueue login``: sign in as a Google user once and keep the refresh token.

The installed-app OAuth flow (google-auth-oauthlib's ``InstalledAppFlow``):
a one-request web server on 127.0.0.1 receives the browser's redirect, the
code is exchanged at the client's ``token_uri``, and the refresh token is
written as an ``authorized_user`` file (mode 0600) that
``SHEETQUEUE_CREDENTIALS_FILE`` can name. The scopes asked are the
spreadsheets scope and the user's email address (to say who signed in).
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sheetqueue.config.errors import ConfigError, SheetqueueError

__all__ = ["LOGIN_SCOPES", "LoginResult", "default_login_file", "login", "read_client_secrets"]

LOGIN_SCOPES = (
    "https://www.googleapis.com/auth/spreadsheets",
    "openid",
    "https://www.googleapis.com/auth/userinfo.email",
)
_GOOGLE_AUTH_URI = "https://accounts.google.com/o/oauth2/auth"
_GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 (a URL)
_DROPPED = ("token", "expiry")  # the short-lived access token is not kept


@dataclass(frozen=True)
class LoginResult:
    """Where the ``authorized_user`` file was written, and whose it is (when Google said)."""

    path: Path
    email: str


def default_login_file() -> Path:
    """``$XDG_CONFIG_HOME/sheetqueue/authorized_user.json`` (``~/.config`` by default)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "sheetqueue" / "authorized_user.json"


def read_client_secrets(path: Path) -> dict[str, Any]:
    """The OAuth client of a downloaded ``client_secret_....json``, or ConfigError (exit 2)."""
    name = "--client-secrets"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{name}: cannot read {str(path)!r}: {exc.strerror}") from None
    except (UnicodeDecodeError, ValueError):
        raise ConfigError(f"{name}: {str(path)!r} is not JSON") from None
    kind = next((key for key in ("installed", "web") if isinstance(data, dict) and key in data), "")
    if not kind or not isinstance(data[kind], dict):
        raise ConfigError(
            f'{name}: {str(path)!r} is not an OAuth client file (no "installed" section); '
            "in Google Cloud create an OAuth client ID of type Desktop app and download its JSON"
        )
    client = dict(data[kind])
    for key in ("client_id", "client_secret"):
        if not str(client.get(key) or "").strip():
            raise ConfigError(f'{name}: {str(path)!r} has no "{key}" in "{kind}"')
    client.setdefault("auth_uri", _GOOGLE_AUTH_URI)
    client.setdefault("token_uri", _GOOGLE_TOKEN_URI)
    return {kind: client}


def login(
    client_secrets: Path,
    out: Path,
    *,
    open_browser: bool,
    timeout: float,
    announce: Callable[[str], None],
) -> LoginResult:
    """Run the flow once (``announce`` is told the URL to open) and write ``out``."""
    config = read_client_secrets(client_secrets)
    from google_auth_oauthlib.flow import InstalledAppFlow, WSGITimeoutError
    from oauthlib.oauth2.rfc6749.errors import OAuth2Error
    from requests import RequestException

    flow = InstalledAppFlow.from_client_config(config, scopes=list(LOGIN_SCOPES))
    flow.authorization_url = _announcing(flow.authorization_url, announce)
    try:
        credentials = flow.run_local_server(
            host="127.0.0.1",
            port=0,
            open_browser=open_browser,
            authorization_prompt_message="",
            timeout_seconds=timeout,
            access_type="offline",
            prompt="consent",
        )
    except WSGITimeoutError:
        raise SheetqueueError(
            f"login: no answer from the browser within {timeout:g} s; run it again"
        ) from None
    except (OAuth2Error, Warning) as exc:
        raise SheetqueueError(f"login: Google refused the sign-in: {exc}") from None
    except RequestException as exc:
        raise SheetqueueError(f"login: cannot reach the token endpoint: {exc}") from None
    info = json.loads(credentials.to_json())
    if not info.get("refresh_token"):
        raise SheetqueueError(
            "login: Google sent no refresh token; remove sheetqueue's access at "
            "myaccount.google.com/permissions and run it again"
        )
    email = _email(getattr(credentials, "id_token", None))
    for key in _DROPPED:
        info.pop(key, None)
    info.update({"type": "authorized_user", "account": email})
    _write_private(out, json.dumps(info, indent=2) + "\n")
    return LoginResult(out, email)


def _announcing(make_url: Callable[..., Any], announce: Callable[[str], None]) -> Any:
    """``authorization_url`` that also hands the URL to ``announce`` (printed, flushed)."""

    def wrapped(**kwargs: Any) -> Any:
        answer = make_url(**kwargs)
        announce(str(answer[0]))
        return answer

    return wrapped


def _email(id_token: object) -> str:
    """The ``email`` claim of the ID token Google sent (not verified: it is only shown)."""
    if not isinstance(id_token, str) or id_token.count(".") != 2:
        return ""
    payload = id_token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return ""
    return str(claims.get("email", "")) if isinstance(claims, dict) else ""


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only (0600), replacing it whole."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except OSError as exc:
        raise ConfigError(f"--out: cannot write {str(path)!r}: {exc.strerror}") from None
