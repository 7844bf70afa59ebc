"""``smtp://``, ``smtp+starttls://`` and ``smtps://``: email through an SMTP server.

* ``smtp://host:port`` (default port 25): plain SMTP, as to a local relay;
* ``smtp+starttls://user:pass@host:port`` (default 587): upgrade with STARTTLS;
* ``smtps://user:pass@host:port`` (default 465): TLS from the first byte.

User and password are URL-decoded (``%40`` for ``@``); with them the notifier
logs in (AUTH). The server's certificate is checked against the system's
trust store, or the one given in ``?cafile=PATH``; ``?timeout=SECONDS`` sets
the socket timeout (10 s). The password never appears in a log line or an
error: every reason passes through :func:`_scrub`.

Once the whole message has gone out after ``DATA``, a dropped connection or a
timeout waiting for the server's answer is :class:`MaybeDelivered` (the server
may have queued it), and nothing that goes wrong after the server's ``250``
(a failed ``QUIT``) counts as a failure.

Connections are reused: a send takes an idle session (or opens one, so as many
are open as messages go out at once, at most the send step's concurrency) and
gives it back after the server's ``250``; a session that failed is closed.
A reused session the server has dropped meanwhile fails before the message
goes out, so the message is tried once more on a fresh connection (it cannot
have been delivered). Sessions are kept only within a send step
(:meth:`SmtpNotifier.begin_step` .. :meth:`SmtpNotifier.end_step`, which says
goodbye to the idle ones); a send outside a step opens and closes its own.
"""

from __future__ import annotations

import smtplib
import ssl
import threading
from email.utils import parseaddr
from typing import Any, Literal

from sheetqueue.config.clock import Clock
from sheetqueue.config.errors import NotifyError
from sheetqueue.worker.notify.base import MaybeDelivered, log_event, skipped
from sheetqueue.worker.notify.message import OutgoingMessage, as_email, email_problem

__all__ = ["DEFAULT_PORTS", "Security", "SmtpNotifier"]

Security = Literal["plain", "starttls", "ssl"]
DEFAULT_PORTS: dict[Security, int] = {"plain": 25, "starttls": 587, "ssl": 465}
_SCHEMES: dict[Security, str] = {"plain": "smtp", "starttls": "smtp+starttls", "ssl": "smtps"}


class SmtpNotifier:
    """Sends each message as multipart/alternative (text and HTML) email."""

    def __init__(
        self,
        host: str,
        port: int | None = None,
        *,
        security: Security = "plain",
        username: str = "",
        password: str = "",
        timeout: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
        clock: Clock,
    ) -> None:
        self.host = host
        self.port = port or DEFAULT_PORTS[security]
        self.security: Security = security
        self.username = username
        self._password = password
        self.timeout = timeout
        self._context = ssl_context
        self._clock = clock
        user = f"{username}:***@" if username else ""
        self.name = f"{_SCHEMES[security]}://{user}{host}:{self.port}"
        self._idle: list[_Watched] = []
        self._idle_lock = threading.Lock()
        self._steps = 0  # send steps under way: sessions are kept while one is

    def __repr__(self) -> str:
        return f"SmtpNotifier({self.name!r})"

    def skip_reason(self, message: OutgoingMessage) -> str | None:
        return email_problem(message.to_email)

    def send(self, message: OutgoingMessage) -> None:
        if skipped(self, message) is not None:
            return
        sender = parseaddr(message.from_email)[1] or message.from_email
        client: _Watched | None = None
        try:
            email = as_email(message, date=self._clock())
            client, reused = self._take()
            try:
                client.send_message(email, from_addr=sender, to_addrs=[message.to_email.strip()])
            except (smtplib.SMTPServerDisconnected, OSError):
                if not reused or client.payload_sent:
                    raise
                client.close()  # an idle session the server dropped: nothing went out on it
                client = None
                client, _ = self._take(fresh=True)
                client.send_message(email, from_addr=sender, to_addrs=[message.to_email.strip()])
        except (smtplib.SMTPException, OSError, ValueError) as exc:
            reason = f"{self.name}: {self._scrub(_reason(exc, self.timeout))}"
            if client is not None:
                client.close()
            if client is not None and client.payload_sent and _no_answer(exc):
                raise MaybeDelivered(f"{reason} after the message was sent") from exc
            raise NotifyError(reason) from exc
        self._give_back(client)
        log_event("notify.sent", self, message)

    def begin_step(self) -> None:
        """A send step starts: keep sessions open for the sends that follow."""
        with self._idle_lock:
            self._steps += 1

    def end_step(self) -> None:
        """A send step is over: say goodbye to the idle sessions once no step is left."""
        with self._idle_lock:
            self._steps = max(self._steps - 1, 0)
            idle, self._idle = (self._idle, []) if self._steps == 0 else ([], self._idle)
        for client in idle:
            _goodbye(client)

    def _take(self, *, fresh: bool = False) -> tuple[_Watched, bool]:
        """An idle session (reused: True) or a new one."""
        if not fresh:
            with self._idle_lock:
                if self._idle:
                    client = self._idle.pop()
                    client.payload_sent = False
                    return client, True
        return self._session(), False

    def _give_back(self, client: _Watched) -> None:
        with self._idle_lock:
            if self._steps:
                self._idle.append(client)
                return
        _goodbye(client)

    def check(self) -> None:
        """Connect, greet, secure and log in as a real send would, then say goodbye."""
        try:
            with self._session() as client:
                client.noop()
        except (smtplib.SMTPException, OSError) as exc:
            raise NotifyError(f"{self.name}: {self._scrub(_reason(exc, self.timeout))}") from exc

    def _session(self) -> _Watched:
        context = self._context or ssl.create_default_context()
        client: _Watched
        if self.security == "ssl":
            client = _WatchedSsl(self.host, self.port, timeout=self.timeout, context=context)
        else:
            client = _WatchedPlain(self.host, self.port, timeout=self.timeout)
        try:
            client.ehlo()
            if self.security == "starttls":
                client.starttls(context=context)
                client.ehlo()
            if self.username:
                client.login(self.username, self._password)
        except BaseException:
            client.close()
            raise
        return client

    def _scrub(self, text: str) -> str:
        return text.replace(self._password, "***") if self._password else text


class _Watched(smtplib.SMTP):
    """An SMTP client that knows whether the message itself went out after DATA."""

    payload_sent = False

    def send(self, s: Any) -> None:
        super().send(s)
        if isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            self.payload_sent = True


class _WatchedPlain(_Watched):
    pass


class _WatchedSsl(_Watched, smtplib.SMTP_SSL):
    pass


def _no_answer(exc: BaseException) -> bool:
    """The server went silent (dropped or timed out) rather than refusing."""
    return not isinstance(exc, smtplib.SMTPResponseException)


def _goodbye(client: smtplib.SMTP) -> None:
    """QUIT after the server took the message; whatever happens now changes nothing."""
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def _reason(exc: BaseException, timeout: float) -> str:
    """A short, readable reason for an SMTP or socket failure."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return "the server refused the user name or password"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "the server refused the recipient address"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"the server does not support that: {exc}"
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else ""
        return f"the server answered {exc.smtp_code} {text}".strip()
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the server running on that port?)"
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed: {exc.reason or exc}"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "the server closed the connection"
    return f"{type(exc).__name__}: {exc}"
