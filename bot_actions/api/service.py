"""The front desk behind every route: record, status, lookup, eligibility, returns, handoff.

The HTTP routes and the chat-platform actions are two spellings of these
methods. Requests go through the durable :class:`~sheetqueue.sheets.outbox.Outbox`;
everything that reads the store or the order data goes through
:class:`~sheetqueue.bot_actions.api.store_access.StoreAccess`. Errors are the project's
own (InputError, NotFoundError, LockedError, StoreError); the web layer maps
them to status codes.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import structlog
from starlette.concurrency import run_in_threadpool

from sheetqueue.bot_actions import handoff as handoffs
from sheetqueue.bot_actions import returns
from sheetqueue.bot_actions.api.messages import REQUEST_NOT_FOUND, repeated_message, status_message
from sheetqueue.bot_actions.api.store_access import StoreAccess
from sheetqueue.bot_actions.lookup import (
    EligibilityAnswer,
    LookupGuard,
    answer_eligibility,
    lookup_order,
    verified_order,
)
from sheetqueue.bot_actions.record import NewRequest, RecordResult, received_message
from sheetqueue.bot_actions.retention import offer_answer
from sheetqueue.config.errors import (
    InputError,
    LockedError,
    NotFoundError,
    SheetqueueError,
)
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.model import Request, RequestType, Status
from sheetqueue.sheets.orders import OrderSource
from sheetqueue.sheets.outbox import Accepted, Outbox
from sheetqueue.worker.links import link_for, with_link
from sheetqueue.worker.metrics import Metrics
from sheetqueue.worker.retention import retention_problem

__all__ = ["FrontDesk", "OrderAnswer", "StatusAnswer"]

log = structlog.get_logger("sheetqueue.api")

T = TypeVar("T")


@dataclass(frozen=True)
class OrderAnswer:
    """A lookup's answer: the order as the shopper may see it, and ``stale`` fields if any."""

    order: dict[str, object]
    stale: dict[str, Any]


@dataclass(frozen=True)
class StatusAnswer:
    request_id: str
    type: str
    status: str
    message: str


class FrontDesk:
    """What a bot can ask of sheetqueue."""

    def __init__(
        self,
        *,
        settings: Settings,
        outbox: Outbox,
        access: StoreAccess,
        guard: LookupGuard,
        portal: returns.ReturnsPortal,
        metrics: Metrics,
        clock: Callable[[], datetime],
    ) -> None:
        self.settings = settings
        self.outbox = outbox
        self.access = access
        self.guard = guard
        self.portal = portal
        self.metrics = metrics
        self.clock = clock

    def record(self, new: NewRequest, idempotency_key: str = "") -> RecordResult:
        """Accept ``new`` durably (201) or give back the request it repeats (200)."""
        return self._recorded(new, self._accept_soon(new, idempotency_key).result())

    async def record_async(self, new: NewRequest, idempotency_key: str = "") -> RecordResult:
        """:meth:`record` for an event loop: awaits the commit instead of holding a thread.

        The answer still comes only once the request is on disk; on shared state
        (whose write blocks) the whole record runs on a worker thread.
        """
        if not self.outbox.commits_in_groups:
            return await run_in_threadpool(self.record, new, idempotency_key)
        future = self._accept_soon(new, idempotency_key)
        return self._recorded(new, await asyncio.wrap_future(future))

    def _accept_soon(self, new: NewRequest, idempotency_key: str) -> Future[Accepted]:
        _check_key(idempotency_key)
        problem = retention_problem(new.details, self.settings.policy)
        if problem:
            raise InputError(problem)
        request = new.to_request(self.clock())
        return self.outbox.accept_soon(
            request,
            idempotency_key=idempotency_key,
            fingerprint=hashlib.sha256(new.model_dump_json().encode()).hexdigest(),
            known_duplicate=self.access.open_duplicate(request.duplicate_key()),
            closed=self.access.known_closed,
        )

    def _recorded(self, new: NewRequest, accepted: Accepted) -> RecordResult:
        saved = accepted.request
        if accepted.created:
            self.metrics.inc("sheetqueue_requests_recorded_total", type=new.type.value)
            log.info("request.accepted", request_id=saved.request_id, type=saved.type)
            message = received_message(new.type, saved.order_id, saved.request_id)
        else:
            self.metrics.inc("sheetqueue_requests_repeated_total", type=new.type.value)
            log.info("request.repeated", request_id=saved.request_id, type=saved.type)
            message = repeated_message(saved)
        link = link_for(self.settings.links, new.type)
        return RecordResult(
            request_id=saved.request_id,
            status=saved.status or Status.PENDING.value,
            message=with_link(message, new.type, link),
            created=accepted.created,
            link=link,
        )

    def status(self, request_id: str, email: str) -> StatusAnswer:
        """Where a request stands; NotFoundError when unknown or not this email's."""
        entry = self.outbox.find(request_id.strip())
        wanted = entry.current.request_id if entry is not None else request_id.strip()
        row: Request | None = None
        if entry is None or entry.landed:
            try:
                row = self.access.find(wanted)
            except SheetqueueError:
                if entry is None:
                    raise
        if row is None and entry is not None:
            row = entry.current
        if row is None or row.email.strip().lower() != email.strip().lower():
            raise NotFoundError(REQUEST_NOT_FOUND)
        return StatusAnswer(
            request_id=row.request_id,
            type=row.type,
            status=row.status or Status.PENDING.value,
            message=status_message(row),
        )

    def lookup(
        self,
        order_id: str,
        email: str,
        conversation_id: str,
        *,
        client: str = "",
        signed_in: bool = False,
    ) -> OrderAnswer:
        """The order as a verified shopper may see it (from the last good copy if need be)."""
        now = self.clock()
        view, stale = self._with_orders(
            lambda source: lookup_order(
                source,
                order_id,
                email,
                conversation_id,
                self.guard,
                now,
                zone=self.settings.zone,
                client=client,
                signed_in=signed_in,
            )
        )
        return OrderAnswer(view.public_dict(), stale)

    def eligibility(
        self,
        order_id: str,
        email: str,
        request_type: str,
        *,
        sku: str = "",
        damaged: bool = False,
        conversation_id: str = "",
        client: str = "",
        signed_in: bool = False,
    ) -> EligibilityAnswer:
        """The decision the bot would get for this request now (the email verified first)."""
        now = self.clock()
        answer, stale = self._with_orders(
            lambda source: answer_eligibility(
                source,
                order_id,
                email,
                request_type,
                self.settings.policy,
                now,
                sku=sku,
                damaged=damaged,
                conversation_id=conversation_id,
                guard=self.guard,
                zone=self.settings.zone,
                client=client,
                signed_in=signed_in,
            )
        )
        self.metrics.inc("sheetqueue_decisions_total", code=answer.decision.partition(":")[2])
        kind = RequestType.parse(request_type)
        link = link_for(self.settings.links, kind)
        if link:
            stale = {**stale, "link": link, "message": with_link(answer.message, kind, link)}
        return answer.model_copy(update=stale) if stale else answer

    def retention_offer(
        self, order_id: str, email: str, *, declined: int = 0, conversation_id: str = ""
    ) -> dict[str, Any]:
        """The next retention offer before a cancellation (the email verified first)."""
        now = self.clock()
        order, _stale = self._with_orders(
            lambda source: verified_order(
                source,
                order_id,
                email,
                conversation_id=conversation_id,
                guard=self.guard,
                now=now,
            )
        )
        answer = offer_answer(
            order, self.settings.policy, key=conversation_id or order.order_id, declined=declined
        )
        log.info("retention.offer", ladder=answer["ladder"], reason=answer["reason"])
        return answer

    def initialise_return(
        self,
        order_id: str,
        email: str,
        *,
        step_type: str = "",
        inputs: Mapping[str, Any] | None = None,
        conversation_id: str = "",
        client: str = "",
    ) -> dict[str, Any]:
        """The returns-portal activity: ``initialise_return`` or ``initialise_return_error``."""
        if step_type and not returns.valid_step_type(step_type):
            raise InputError("step_type: use lower-case letters, digits and _ (return_details)")
        if not self.portal.configured:
            log.warning("returns.not_configured")
            return returns.error_payload(returns.NOT_CONFIGURED_MESSAGE)
        try:
            answer = self.eligibility(
                order_id, email, "return", conversation_id=conversation_id, client=client
            )
        except (NotFoundError, LockedError) as exc:
            return returns.error_payload(exc.message)
        if answer.decision.partition(":")[2] in returns.OVERDUE_CODES:
            return returns.overdue_payload(answer.message, answer.decision)
        if not answer.eligible:
            return returns.error_payload(answer.message)
        return returns.initialise_payload(
            self.portal, order_id.strip(), step_type=step_type, inputs=inputs
        )

    def handoff(
        self,
        *,
        order_id: str,
        issue: str,
        email: str = "",
        conversation_id: str = "",
        channel: str = "",
        phone: str = "",
        context: Mapping[str, Any] | None = None,
        idempotency_key: str = "",
    ) -> RecordResult:
        """Record a ``support`` request with the context staff need.

        The answer is the same whether the order number is known or not; the
        row says whether the caller proved the email is the order's.
        """
        new = handoffs.handoff_request(
            order_id=order_id,
            issue=issue,
            email=email,
            conversation_id=conversation_id,
            channel=channel,
            phone=phone,
            context=context,
            verified=bool(email.strip()) and self._email_proven(order_id, email),
        )
        return self.record(new, idempotency_key)

    def _email_proven(self, order_id: str, email: str) -> bool:
        """True when ``email`` is the order's; False when not, unknown or unreadable."""

        def proven(source: OrderSource) -> bool:
            order = source.get(order_id.strip(), email.strip())
            return order is not None and order.matches_email(email)

        try:
            return self._with_orders(proven)[0]
        except SheetqueueError:
            return False

    def _with_orders(self, work: Callable[[OrderSource], T]) -> tuple[T, dict[str, Any]]:
        """``work`` on the order data, and the ``stale`` fields when it was the last good copy."""
        try:
            result, orders = self.access.with_bot_orders(work)
            return result, orders.stale_fields if orders is not None else {}
        except LockedError:
            self.metrics.inc("sheetqueue_lookups_limited_total")
            raise


def _check_key(key: str) -> None:
    if len(key) > 200 or not key.isprintable() or not key.isascii():
        raise InputError("Idempotency-Key: use at most 200 printable ASCII characters")
