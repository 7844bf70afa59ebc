"""A real gspread client pointed at another Sheets API base URL (the emulator).

gspread builds every URL on ``https://sheets.googleapis.com`` (and Drive's
``https://www.googleapis.com``); the session below rewrites those bases to
``base_url`` and otherwise behaves as a plain ``requests.Session``: no
credentials unless some are given, in which case it is Google's
``AuthorizedSession``.
"""

from __future__ import annotations

from typing import Any, cast

import gspread
import requests
from google.auth.credentials import Credentials
from google.auth.transport.requests import AuthorizedSession

__all__ = ["RebasedSession", "emulator_client"]

_GOOGLE_BASES = ("https://sheets.googleapis.com", "https://www.googleapis.com")


class _Rebase:
    """Mixin: send requests for Google's API hosts to ``base_url`` instead."""

    base_url = ""

    def request(self, method: str, url: Any, *args: Any, **kwargs: Any) -> requests.Response:
        if isinstance(url, str):
            for google in _GOOGLE_BASES:
                if url.startswith(google):
                    url = self.base_url + url[len(google) :]
                    break
        return cast(requests.Response, super().request(method, url, *args, **kwargs))  # type: ignore[misc]


class RebasedSession(_Rebase, requests.Session):
    """A credential-less session whose Google API calls go to ``base_url``."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")


class _RebasedAuthorizedSession(_Rebase, AuthorizedSession):
    def __init__(self, base_url: str, credentials: Credentials) -> None:
        super().__init__(credentials)  # type: ignore[no-untyped-call]
        self.base_url = base_url.rstrip("/")


def emulator_client(
    base_url: str, timeout: float = 10, credentials: Credentials | None = None
) -> gspread.Client:
    """A gspread client whose Sheets calls go to ``base_url`` (e.g. ``http://127.0.0.1:8085``)."""
    session: requests.Session
    if credentials is None:
        session = RebasedSession(base_url)
    else:
        session = _RebasedAuthorizedSession(base_url, credentials)
    client = gspread.Client(auth=cast(Credentials, None), session=session)
    client.set_timeout(timeout)
    return client
