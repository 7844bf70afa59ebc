"""``sheetqueue login``: the installed-app flow against a stand-in Google on 127.0.0.1.

The test plays the browser: it opens the URL login prints, the stand-in
authorization server redirects to login's own local address with a code, and
the stand-in token endpoint answers tokens for that code.
"""

from __future__ import annotations

import base64
import json
import stat
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import requests

from sheetqueue.sheets.google_login import LOGIN_SCOPES
from tests.cli_runner import SheetqueueCli

CODE = "4/the-code"


class StandInGoogle:
    """An authorization endpoint (``/auth``) and a token endpoint (``/token``)."""

    def __init__(self) -> None:
        self.token_forms: list[dict[str, str]] = []
        self.refuse = False
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
                if stand_in.refuse:
                    back = {"error": "access_denied", "state": query.get("state", "")}
                else:
                    back = {"code": CODE, "state": query.get("state", "")}
                self.send_response(302)
                self.send_header("Location", f"{query['redirect_uri']}?{urlencode(back)}")
                self.end_headers()

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"])).decode()
                form = {k: v[0] for k, v in parse_qs(raw).items()}
                stand_in.token_forms.append(form)
                claims = base64.urlsafe_b64encode(b'{"email": "owner@shop.example"}').decode()
                answer: dict[str, Any] = {
                    "access_token": "ya29.short-lived",
                    "expires_in": 3599,
                    "refresh_token": "1//the-refresh-token",
                    "scope": " ".join(LOGIN_SCOPES),
                    "token_type": "Bearer",
                    "id_token": f"e30.{claims.rstrip('=')}.sig",
                }
                body = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def client_secrets(self, path: Path) -> Path:
        """A Desktop-app client's JSON whose endpoints are this server's."""
        installed = {
            "client_id": "1234-desktop.apps.googleusercontent.com",
            "client_secret": "GOCSPX-desktop-secret",
            "auth_uri": f"{self.url}/auth",
            "token_uri": f"{self.url}/token",
            "redirect_uris": ["http://localhost"],
        }
        path.write_text(json.dumps({"installed": installed}))
        return path


@pytest.fixture
def google() -> Iterator[StandInGoogle]:
    stand_in = StandInGoogle()
    stand_in.thread.start()
    yield stand_in
    stand_in.server.shutdown()
    stand_in.server.server_close()


def _play_browser(cli: SheetqueueCli, google: StandInGoogle, *args: str) -> tuple[int, str, str]:
    """Run login, open the URL it prints as a browser would, and wait for it to end."""
    process = cli.popen(
        "login", *args, "--no-browser", "--timeout", "30", OAUTHLIB_INSECURE_TRANSPORT="1"
    )  # the stand-in speaks http
    assert process.stdout is not None
    printed = []
    for line in process.stdout:
        printed.append(line)
        if line.startswith(google.url):
            requests.get(line.strip(), timeout=10)  # follows the redirect to login's server
            break
    out, err = process.communicate(timeout=30)
    return process.returncode, "".join(printed) + out, err


def test_login_writes_an_authorized_user_file_readable_by_its_owner_only(
    tmp_path: Path, google: StandInGoogle
) -> None:
    """The refresh token lands in a 0600 authorized_user file; login says what to set."""
    secrets = google.client_secrets(tmp_path / "client_secret.json")
    target = tmp_path / "keys" / "signed-in.json"
    cli = SheetqueueCli(tmp_path)
    code, out, err = _play_browser(
        cli, google, "--client-secrets", str(secrets), "--out", str(target)
    )
    assert code == 0, out + err
    info = json.loads(target.read_text())
    assert info["type"] == "authorized_user"
    assert info["refresh_token"] == "1//the-refresh-token"
    assert info["client_id"] == "1234-desktop.apps.googleusercontent.com"
    assert info["client_secret"] == "GOCSPX-desktop-secret"
    assert info["token_uri"] == f"{google.url}/token"
    assert info["account"] == "owner@shop.example"
    assert "token" not in info  # the short-lived access token is not kept
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    [form] = google.token_forms
    assert form["grant_type"] == "authorization_code" and form["code"] == CODE
    assert form["code_verifier"]  # PKCE
    assert f"export SHEETQUEUE_CREDENTIALS_FILE={target}" in out
    assert "owner@shop.example (Share -> Editor)" in out
    check = cli("check", SHEETQUEUE_CREDENTIALS_FILE=str(target))
    assert check.code == 0, check.stdout + check.stderr  # the file passes start-up checks


def test_a_refused_sign_in_exits_1_and_writes_nothing(
    tmp_path: Path, google: StandInGoogle
) -> None:
    """The user clicks Cancel: login says Google refused, exit 1, no file."""
    google.refuse = True
    secrets = google.client_secrets(tmp_path / "client_secret.json")
    target = tmp_path / "signed-in.json"
    code, out, err = _play_browser(
        SheetqueueCli(tmp_path), google, "--client-secrets", str(secrets), "--out", str(target)
    )
    assert code == 1
    assert "login: Google refused the sign-in" in err and "Traceback" not in out + err
    assert not target.exists()


def test_a_client_secrets_file_that_is_not_an_oauth_client_exits_2(tmp_path: Path) -> None:
    """A service-account key given as --client-secrets: exit 2, says what to download."""
    wrong = tmp_path / "sa.json"
    wrong.write_text(json.dumps({"type": "service_account"}))
    result = SheetqueueCli(tmp_path)("login", "--client-secrets", str(wrong), "--no-browser")
    assert result.code == 2
    assert "Desktop app" in result.stderr and "Traceback" not in result.stderr
