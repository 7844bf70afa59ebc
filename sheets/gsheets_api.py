"""The Sheets API calls the gspread store makes: one place for credentials, timeouts,
retries, call counting and turning vendor errors into :class:`StoreError`.

Every call goes through gspread's low-level ``HTTPClient`` (no gspread model
objects, so opening a spreadsheet costs no hidden metadata read) with the
timeout of the settings. Errors leave this module as the project's own:

- 404: the spreadsheet is not there (``SHEETQUEUE_SPREADSHEET_ID``);
- 401/403: the credentials are refused or the sheet is not shared with the
  account (the service account's address is named in the message);
- 400: :class:`Refused`, with Google's message (a bad range, past the grid);
- 429, 5xx, timeouts and dropped connections: :class:`Transient`, retried
  with backoff where the call is safe to repeat.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import gspread
import msgspec
import requests
from google.auth.credentials import Credentials
from google.auth.exceptions import GoogleAuthError
from gspread.exceptions import APIError
from gspread.http_client import ParamsType
from gspread.urls import SPREADSHEET_VALUES_BATCH_URL

from sheetqueue.config.errors import ConfigError, StoreError
from sheetqueue.config.settings import Settings
from sheetqueue.config.sign_in import read_credentials_file
from sheetqueue.sheets.encoded_rows import EncodedRows
from sheetqueue.sheets.gsheets_client import emulator_client
from sheetqueue.sheets.gsheets_retry import Backoff, Transient

__all__ = [
    "GOOGLE_API_URL",
    "Refused",
    "SheetsApi",
    "SignIn",
    "SpreadsheetNotFound",
    "open_client",
]

GOOGLE_API_URL = "https://sheets.googleapis.com"
_SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)
_RAW = {"valueInputOption": "RAW"}


class Refused(StoreError):
    """The Sheets API refused the request as asked (HTTP 400); ``text`` is Google's message."""

    def __init__(self, message: str, text: str) -> None:
        super().__init__(message)
        self.text = text


class SpreadsheetNotFound(StoreError):
    """No spreadsheet has that key: SHEETQUEUE_SPREADSHEET_ID is wrong (bad configuration)."""

    exit_code = 2


@dataclass(frozen=True)
class SignIn:
    """Who the Sheets calls act as, for messages: ``kind``, a description, whom to share with.

    ``kind`` is ``service_account``, ``authorized_user`` (an OAuth user file),
    ``default`` (Google's default credentials) or ``none`` (an emulator
    without credentials); ``share_with`` is the address the spreadsheet must be
    shared with, when known.
    """

    kind: str
    account: str
    share_with: str = ""


def open_client(settings: Settings) -> tuple[gspread.Client, SignIn]:
    """A gspread client for the settings, and who it acts as (for messages).

    A credentials file is a service account's JSON key or an ``authorized_user``
    file (told apart by its ``type``); without one, Google's default
    credentials, or none at all when the API URL points at an emulator.
    """
    credentials: Credentials | None = None
    sign_in = SignIn("none", "no credentials (the emulator)")
    try:
        if settings.credentials_file is not None:
            credentials, sign_in = _from_file(
                settings.credentials_file, own_token_uri=settings.uses_emulator
            )
        elif not settings.uses_emulator:
            import google.auth

            credentials, _project = google.auth.default(scopes=list(_SCOPES))
            email = str(getattr(credentials, "service_account_email", "") or "")
            what = f"service account {email}" if email else "a user"
            sign_in = SignIn("default", f"Google default credentials ({what})", email)
    except GoogleAuthError as exc:
        raise ConfigError(
            f"SHEETQUEUE_CREDENTIALS_FILE: no usable Google credentials ({exc})"
        ) from exc
    timeout = settings.sheets_timeout_seconds
    if settings.uses_emulator:
        return emulator_client(settings.sheets_api_url, timeout, credentials), sign_in
    client = gspread.Client(auth=cast(Credentials, credentials))
    client.set_timeout(timeout)
    return client, sign_in


def _from_file(path: Path, *, own_token_uri: bool) -> tuple[Credentials, SignIn]:
    """Credentials from a service-account key or an ``authorized_user`` file.

    google-auth sends a user's refresh token to Google's token endpoint whatever
    the file says; with ``own_token_uri`` (the API URL is not Google's: an
    emulator) the file's ``token_uri`` is used instead.
    """
    found = read_credentials_file(path)
    try:
        if found.kind == "service_account":
            from google.oauth2 import service_account

            credentials: Any = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
                found.info, scopes=list(_SCOPES)
            )
        else:
            from google.oauth2.credentials import Credentials as UserCredentials

            # The scopes the user granted (the file's own list, if any) are asked again.
            credentials = UserCredentials.from_authorized_user_info(found.info)  # type: ignore[no-untyped-call]
            if own_token_uri and found.info.get("token_uri"):
                credentials = credentials.with_token_uri(str(found.info["token_uri"]))
    except (ValueError, KeyError) as exc:
        raise ConfigError(
            f"SHEETQUEUE_CREDENTIALS_FILE: cannot use {str(path)!r} ({found.kind}): {exc}"
        ) from None
    share = found.email
    return cast(Credentials, credentials), SignIn(found.kind, found.describe(), share)


def _render(unformatted: bool) -> dict[str, str]:
    """The render options: as shown, or numbers as numbers and dates as serial numbers."""
    if unformatted:
        return {"valueRenderOption": "UNFORMATTED_VALUE", "dateTimeRenderOption": "SERIAL_NUMBER"}
    return {"valueRenderOption": "FORMATTED_VALUE"}


class SheetsApi:
    """The calls on one spreadsheet, counted, retried and with errors converted.

    ``calls`` counts HTTP calls made (retries included), ``retries`` the
    retries; ``on_call(kind, retried)`` is told of each call (``get``, ``batch_get``,
    ``append``, ``batch_write``, ``update``, ``clear``, ``structure``,
    ``metadata``) for metrics.
    """

    def __init__(
        self,
        client: gspread.Client,
        spreadsheet_id: str,
        *,
        backoff: Backoff | None = None,
        on_call: Callable[[str, bool], None] | None = None,
        account: str = "",
        sign_in: SignIn | None = None,
        setting: str = "SHEETQUEUE_SPREADSHEET_ID",
    ) -> None:
        self._http = client.http_client
        self.setting = setting  # the setting that names this spreadsheet, for messages
        self.spreadsheet_id = spreadsheet_id
        self.backoff = backoff or Backoff()
        self.on_call = on_call
        self.on_throttled: Callable[[str], None] | None = None  # a call answered 429
        self._next_is_retry = False
        self.account = account or (sign_in.share_with if sign_in else "")
        self.sign_in = sign_in or SignIn("none", "", self.account)
        self.calls = 0
        self.retries = 0

    @property
    def session(self) -> Any:
        """The HTTP session the calls go through (``requests.Session``), for measuring."""
        return self._http.session

    # -- the calls ------------------------------------------------------------

    def get(self, rng: str, *, major: str = "ROWS", unformatted: bool = False) -> list[list[Any]]:
        """``values.get`` as a person sees the cells (``FORMATTED_VALUE``), or unformatted."""
        params: ParamsType = {**_render(unformatted), "majorDimension": major}
        answer = self.retrying(
            "get", lambda: self._http.values_get(self.spreadsheet_id, rng, params=params)
        )
        return list(answer.get("values", []))

    def batch_get(
        self, ranges: Sequence[str], *, major: str = "ROWS", unformatted: bool = False
    ) -> list[list[list[Any]]]:
        """``values.batchGet``: the values of each range, in order."""
        blocks = self.batch_get_encoded(ranges, major=major, unformatted=unformatted)
        return cast(list[list[list[Any]]], blocks)  # none encoded: every block came decoded

    def batch_get_encoded(
        self,
        ranges: Sequence[str],
        *,
        major: str = "ROWS",
        unformatted: bool = False,
        encoded: Collection[int] = (),
    ) -> list[Sequence[list[Any]]]:
        """``values.batchGet``; the blocks at ``encoded`` (indexes) come as :class:`EncodedRows`."""
        params: dict[str, Any] = {**_render(unformatted), "majorDimension": major}
        return cast(
            list[Sequence[list[Any]]],
            self.retrying(
                "batch_get", lambda: self._batch_get(list(ranges), dict(params), encoded)
            ),
        )

    def append(self, rng: str, rows: Sequence[Sequence[str]]) -> dict[str, Any]:
        """``values.append`` (RAW, INSERT_ROWS), tried once: a lost answer may have landed."""
        params: ParamsType = {**_RAW, "insertDataOption": "INSERT_ROWS"}
        body = {"majorDimension": "ROWS", "values": [list(row) for row in rows]}
        return cast(
            dict[str, Any],
            self.once(
                "append",
                lambda: self._http.values_append(self.spreadsheet_id, rng, params, body),
            ),
        )

    def batch_write(self, data: Sequence[Mapping[str, Any]], *, retry: bool) -> None:
        """``values.batchUpdate`` (RAW) of ``data`` (ValueRanges), all or nothing."""
        body = {**_RAW, "data": [dict(item) for item in data]}

        def call() -> Any:
            return self._http.values_batch_update(self.spreadsheet_id, body)

        if retry:
            self.retrying("batch_write", call)
        else:
            self.once("batch_write", call)

    def update(self, rng: str, rows: Sequence[Sequence[str]]) -> None:
        """``values.update`` (RAW) of one block; safe to repeat."""
        body = {"majorDimension": "ROWS", "values": [list(row) for row in rows]}
        self.retrying(
            "update",
            lambda: self._http.values_update(self.spreadsheet_id, rng, dict(_RAW), body),
        )

    def clear(self, rng: str) -> None:
        """``values.clear`` of a block."""
        self.retrying("clear", lambda: self._http.values_clear(self.spreadsheet_id, rng))

    def structure(self, requests_: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """``spreadsheets.batchUpdate`` (tabs, grid, formats), tried once."""
        body = {"requests": [dict(item) for item in requests_]}
        return cast(
            dict[str, Any],
            self.once("structure", lambda: self._http.batch_update(self.spreadsheet_id, body)),
        )

    def metadata(self, fields: str = "sheets.properties") -> dict[str, Any]:
        """``spreadsheets.get`` without cells, limited to ``fields``."""
        params: ParamsType = {"includeGridData": "false", "fields": fields}
        return cast(
            dict[str, Any],
            self.retrying(
                "metadata",
                lambda: self._http.spreadsheets_get(self.spreadsheet_id, params=params),
            ),
        )

    # -- plumbing -------------------------------------------------------------

    def _batch_get(
        self, ranges: list[str], params: dict[str, Any], encoded: Collection[int]
    ) -> list[Sequence[list[Any]]]:
        """``values.batchGet`` through gspread's session, the body parsed once from its bytes.

        gspread's ``values_batch_get`` decodes the body to text before parsing
        it: a second copy of the largest answer a pass reads, and one whose size
        depends on the shoppers' text (one curly apostrophe anywhere makes
        Python store the whole text at 2 bytes a character, one emoji at 4).
        Here msgspec parses the UTF-8 bytes as they came (each cell becomes its
        own string, sized by its own characters); the blocks at ``encoded``
        keep each row as its JSON (see :class:`EncodedRows`).
        """
        url = SPREADSHEET_VALUES_BATCH_URL % self.spreadsheet_id
        body = self._body(url, {**params, "ranges": ranges})
        if not encoded:  # every block decoded: one pass over the bytes
            return [block.values for block in msgspec.json.decode(body, type=_Decoded).valueRanges]
        answer = msgspec.json.decode(body, type=_Answer)
        del body
        blocks: list[Sequence[list[Any]]] = []
        for index, block in enumerate(answer.valueRanges):
            if index in encoded:
                blocks.append(EncodedRows(msgspec.json.decode(block, type=_EncodedBlock).values))
            else:
                blocks.append(msgspec.json.decode(block, type=_Block).values)
        return blocks

    def _body(self, url: str, params: dict[str, Any]) -> bytes:
        """A GET through gspread's session (refused as its calls are), its body read in one piece.

        ``Response.content`` gathers a body 10 KB at a time: some 1,900 reads
        and a join (for a moment, the body twice) for the 19 MB a pass reads at
        50,000 rows. Streamed, it is read as it arrives, in one piece when the
        length is known; the connection goes back to the pool once it is read.
        """
        response = self._http.session.request(
            "get", url, params=params, timeout=self._http.timeout, stream=True
        )
        if not response.ok:
            raise APIError(response)
        return b"".join(response.iter_content(chunk_size=None))

    def retrying(self, kind: str, call: Callable[[], Any]) -> Any:
        """One call, repeated with backoff on transient failures (safe calls only)."""
        return self.backoff.run(lambda: self.once(kind, call), self.count_retry)

    def count_retry(self, _error: Transient, _wait: float) -> None:
        self.retries += 1
        self._next_is_retry = True

    def once(self, kind: str, call: Callable[[], Any]) -> Any:
        """One HTTP call, counted; vendor errors converted."""
        self.calls += 1
        retried, self._next_is_retry = self._next_is_retry, False
        if self.on_call is not None:
            self.on_call(kind, retried)
        try:
            return call()
        except APIError as exc:
            if exc.code == 429 and self.on_throttled is not None:
                self.on_throttled(kind)
            raise self._api_error(exc) from exc
        except requests.Timeout as exc:
            raise Transient(
                f"the Sheets API did not answer in time ({kind})", code=None, maybe_applied=True
            ) from exc
        except requests.ConnectionError as exc:
            raise Transient(
                f"cannot reach the Sheets API ({kind}): {exc}", code=None, maybe_applied=True
            ) from exc
        except requests.RequestException as exc:
            raise StoreError(f"the Sheets API call failed ({kind}): {exc}") from exc
        except GoogleAuthError as exc:
            user = self.sign_in.kind == "authorized_user"
            again = " (run `sheetqueue login` again)" if user else ""
            raise StoreError(f"Google credentials were refused: {exc}{again}") from exc

    def _api_error(self, exc: APIError) -> StoreError:
        code = exc.code
        text = str(exc.error.get("message", "")) if isinstance(exc.error, Mapping) else str(exc)
        book = self.spreadsheet_id
        if code == 429 or (code == 403 and "rate" in text.lower() and "limit" in text.lower()):
            return Transient(
                f"Google Sheets quota exceeded (HTTP {code}): {text}",
                code=code,
                maybe_applied=False,
            )
        if code == 408 or code >= 500:
            return Transient(
                f"Google Sheets is unavailable (HTTP {code}): {text}",
                code=code,
                maybe_applied=True,
            )
        if code == 404:
            return SpreadsheetNotFound(
                f"spreadsheet {book!r} not found: check {self.setting} ({text})"
            )
        if code in (401, 403):
            return StoreError(self._no_access(code, text))
        if code == 400:
            return Refused(f"the Sheets API refused the request: {text}", text)
        return StoreError(f"the Sheets API answered HTTP {code}: {text}")

    def _no_access(self, code: int, text: str) -> str:
        """What to do about a 401/403: whom to share the sheet with, or to sign in again."""
        book = self.spreadsheet_id
        user = self.sign_in.kind == "authorized_user"
        if code == 401:
            again = "run `sheetqueue login` again" if user else "check SHEETQUEUE_CREDENTIALS_FILE"
            return f"Google refused the credentials (HTTP 401): {again} ({text})"
        if self.account:
            who = f"the service account {self.account}" if not user else self.account
        elif user:
            who = "the Google account you signed in as with `sheetqueue login`"
        else:
            who = "your account"
        named = "" if self.setting == "SHEETQUEUE_SPREADSHEET_ID" else f" ({self.setting})"
        return (
            f"no access to spreadsheet {book!r}{named} (HTTP 403): share it with {who} "
            f"(Share -> Editor) ({text})"
        )

    def close(self) -> None:
        """Close the HTTP session."""
        self._http.session.close()


class _Answer(msgspec.Struct):
    """A ``values.batchGet`` answer: each range's block left encoded until it is read."""

    valueRanges: list[msgspec.Raw] = []  # the API's name


class _Block(msgspec.Struct):
    values: list[list[Any]] = []


class _Decoded(msgspec.Struct):
    """A ``values.batchGet`` answer with every block decoded."""

    valueRanges: list[_Block] = []  # the API's name


class _EncodedBlock(msgspec.Struct):
    values: list[msgspec.Raw] = []
