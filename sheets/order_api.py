"""``http(s)://`` order data: one GET per order against the shop's own order API.

``GET <url>?order_id=..&email=..`` with ``Authorization: Bearer <token>``
when a token is set. 200 is one order object, 404 is "no such order". The
object may be in any shape :mod:`~sheetqueue.sheets.order_mapping` reads (an
``order_number`` and text address, an ``id`` with ``isDelivered`` flags, ...);
one without an email is taken to have matched the email it was asked with.
Timeouts, connection failures and 5xx answers are tried again with bounded
exponential backoff and jitter; after the last try an
:class:`~sheetqueue.config.errors.OrderSourceError` names the API (without its query, so
no email leaks into a log) and the last problem. 401 and 403 are not retried:
the token is wrong. The token is never logged or put in a message.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC
from typing import Any

import httpx
import structlog

from sheetqueue.config.errors import InputError, OrderSourceError
from sheetqueue.sheets.order_mapping import OrderMapping
from sheetqueue.sheets.orders import Order, order_from_record

__all__ = ["HttpOrderSource"]

log = structlog.get_logger("sheetqueue.order_api")

_MAX_BACKOFF = 5.0


class HttpOrderSource:
    """An :class:`~sheetqueue.sheets.orders.OrderSource` backed by an HTTP order API."""

    def __init__(
        self,
        url: str,
        token: str = "",
        timeout: float = 10.0,
        zone: Any = UTC,
        retries: int = 3,
        backoff: float = 0.2,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        mapping: OrderMapping | None = None,
        locale: str = "",
    ) -> None:
        self._mapping = mapping
        self._locale = locale  # the shop's: a date it does not settle sends the request to review
        self.url = url
        self._token = token
        self._timeout = timeout
        self._zone = zone
        self._tries = max(1, retries)
        self._backoff = backoff
        self._transport = transport
        self._sleep = sleep
        self._where = str(httpx.URL(url).copy_with(query=None))

    def __repr__(self) -> str:
        return f"HttpOrderSource({self._where!r})"

    def get(self, order_id: str, email: str) -> Order | None:
        """The order the API returns, None on 404, OrderSourceError when it cannot answer."""
        url = httpx.URL(self.url).copy_merge_params({"order_id": order_id, "email": email})
        headers = {"Accept": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        problem = ""
        with httpx.Client(timeout=self._timeout, transport=self._transport) as client:
            for attempt in range(1, self._tries + 1):
                try:
                    response = client.get(url, headers=headers)
                except httpx.TimeoutException:
                    problem = f"no answer within {self._timeout:g} s"
                except httpx.TransportError as exc:
                    problem = f"cannot connect ({type(exc).__name__}: {exc})"
                else:
                    if response.status_code < 500:
                        return self._read(response, order_id, email)
                    problem = f"HTTP {response.status_code}"
                log.warning("orders.api_retry", url=self._where, attempt=attempt, problem=problem)
                if attempt < self._tries:
                    self._sleep(self._delay(attempt))
        raise OrderSourceError(
            f"order API at {self._where} did not answer after {self._tries} "
            f"{'try' if self._tries == 1 else 'tries'}: {problem}"
        )

    def _delay(self, attempt: int) -> float:
        base = min(self._backoff * 2.0 ** (attempt - 1), _MAX_BACKOFF)
        return base * (0.5 + random.random() / 2)  # full-ish jitter, never zero

    def _read(self, response: httpx.Response, order_id: str, email: str) -> Order | None:
        status = response.status_code
        if status == 404:
            return None
        if status in (401, 403):
            raise OrderSourceError(
                f"order API at {self._where} refused the request (HTTP {status}); "
                "check SHEETQUEUE_ORDERS_TOKEN"
            )
        if status != 200:
            raise OrderSourceError(f"order API at {self._where} answered HTTP {status}")
        try:
            record = response.json()
        except ValueError:
            raise OrderSourceError(
                f"order API at {self._where} answered something that is not JSON"
            ) from None
        if isinstance(record, dict) and isinstance(record.get("order"), dict):
            record = record["order"]  # {"order": {...}} is accepted too
        if not isinstance(record, dict):
            raise OrderSourceError(f"order API at {self._where} did not answer a JSON object")
        try:
            # An API that answers without an email matched the one it was asked with.
            return order_from_record(
                record,
                self._zone,
                self._mapping,
                email=email,
                locale=self._locale,
                review_dates=True,
            )
        except InputError as exc:
            raise OrderSourceError(
                f"order API at {self._where} answered an invalid order for {order_id}: {exc}"
            ) from None
