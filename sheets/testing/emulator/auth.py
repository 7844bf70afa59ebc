"""Google sign-in, emulated: an OAuth token endpoint and Bearer checks on the Sheets calls.

Off by default (every call is let in, as before). A test turns it on:

- :meth:`Auth.add_user` registers an OAuth client (id and secret) and a refresh
  token; ``POST /token`` with ``grant_type=refresh_token`` then answers an
  access token for it, and refuses a wrong client id, secret or token with
  Google's ``invalid_client`` / ``invalid_grant`` (HTTP 400/401).
- A service account's signed assertion
  (``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer``) is answered too;
  the emulator reads its issuer (the account's address) without checking the
  signature.
- :attr:`Auth.required`: Sheets calls without a token it issued are answered
  401 ``UNAUTHENTICATED``; :meth:`Auth.deny` makes one account's calls 403
  ``PERMISSION_DENIED`` (a sheet not shared with it), on every spreadsheet or
  on one.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sheetqueue.sheets.testing.emulator.errors import ApiError

__all__ = ["Auth"]

_JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass
class Auth:
    """The emulator's sign-in state: clients, refresh tokens, issued access tokens."""

    required: bool = False
    clients: dict[str, str] = field(default_factory=dict)  # client id -> secret
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # token -> client id
    access_tokens: dict[str, str] = field(default_factory=dict)  # token -> who
    denied: set[str] = field(default_factory=set)
    denied_on: set[tuple[str, str]] = field(default_factory=set)  # (who, spreadsheet)
    grants: int = 0  # access tokens issued

    def add_user(
        self, client_id: str, client_secret: str, refresh_token: str, *, required: bool = True
    ) -> None:
        """Accept ``refresh_token`` from that client; with ``required``, check every call."""
        self.clients[client_id] = client_secret
        self.refresh_tokens[refresh_token] = client_id
        self.required = self.required or required

    def deny(self, who: str, spreadsheet: str = "") -> None:
        """Answer 403 to the calls of ``who`` (an OAuth client id or a service account).

        With ``spreadsheet``, only its calls on that spreadsheet (not shared with it).
        """
        if spreadsheet:
            self.denied_on.add((who, spreadsheet))
        else:
            self.denied.add(who)

    def clear(self) -> None:
        """Back to no sign-in checks."""
        self.required = False
        self.clients.clear()
        self.refresh_tokens.clear()
        self.access_tokens.clear()
        self.denied.clear()
        self.denied_on.clear()
        self.grants = 0

    def token(self, form: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        """Answer one ``POST /token`` (form fields): an access token, or Google's error."""
        grant = form.get("grant_type", "")
        if grant == "refresh_token":
            client_id = form.get("client_id", "")
            if client_id not in self.clients or self.clients[client_id] != form.get(
                "client_secret"
            ):
                return 401, _oauth_error("invalid_client", "The OAuth client was not found.")
            if self.refresh_tokens.get(form.get("refresh_token", "")) != client_id:
                return 400, _oauth_error("invalid_grant", "Token has been expired or revoked.")
            who = client_id
        elif grant == _JWT_GRANT:
            who = _issuer(form.get("assertion", ""))
            if not who:
                return 400, _oauth_error("invalid_grant", "Invalid JWT assertion.")
        else:
            return 400, _oauth_error("unsupported_grant_type", f"Invalid grant_type: {grant}")
        access = "emu-" + secrets.token_urlsafe(16)
        self.access_tokens[access] = who
        self.grants += 1
        answer: dict[str, Any] = {
            "access_token": access,
            "expires_in": 3599,
            "token_type": "Bearer",
        }
        if form.get("scope"):
            answer["scope"] = form["scope"]
        return 200, answer

    def check(self, authorization: str | None, spreadsheet: str = "") -> None:
        """Raise the ApiError Google answers a call on ``spreadsheet`` with these credentials."""
        if not self.required:
            return
        scheme, _sep, token = (authorization or "").partition(" ")
        who = self.access_tokens.get(token) if scheme.lower() == "bearer" else None
        if who is None:
            raise ApiError(
                401,
                "Request is missing required authentication credential.",
                "UNAUTHENTICATED",
            )
        if who in self.denied or (who, spreadsheet) in self.denied_on:
            raise ApiError(403, "The caller does not have permission", "PERMISSION_DENIED")


def _issuer(assertion: str) -> str:
    """The ``iss`` of a JWT, unverified (the emulator trusts every signature)."""
    parts = assertion.split(".")
    if len(parts) != 3:
        return ""
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except ValueError:
        return ""
    return str(claims.get("iss", "")) if isinstance(claims, dict) else ""


def _oauth_error(code: str, description: str) -> dict[str, Any]:
    return {"error": code, "error_description": description}
