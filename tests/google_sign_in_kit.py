"""Google sign-in files for tests: an OAuth user file and a service account on the emulator."""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sheetqueue.sheets.testing.emulator import Emulator

__all__ = ["CLIENT_ID", "CLIENT_SECRET", "REFRESH_TOKEN", "service_account_file", "user_file"]

CLIENT_ID = "1234-desktop.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-not-a-real-secret"
REFRESH_TOKEN = "1//refresh-token-of-the-team"


def user_file(
    emulator: Emulator, path: Path, *, refresh_token: str = REFRESH_TOKEN, account: str = ""
) -> Path:
    """An ``authorized_user`` file whose ``token_uri`` is the emulator's ``/token``."""
    assert emulator.url is not None
    info = {
        "type": "authorized_user",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "refresh_token": refresh_token,
        "token_uri": f"{emulator.url}/token",
        "account": account,
    }
    path.write_text(json.dumps(info))
    return path


def service_account_file(emulator: Emulator, path: Path, email: str) -> Path:
    """A service account's JSON key (a fresh RSA key) whose ``token_uri`` is the emulator's."""
    assert emulator.url is not None
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "shop-project",
        "private_key_id": "k1",
        "private_key": pem,
        "client_email": email,
        "client_id": "1001",
        "token_uri": f"{emulator.url}/token",
    }
    path.write_text(json.dumps(info))
    return path
