"""A real SMTP server on 127.0.0.1 for tests (aiosmtpd), plain, STARTTLS or SMTPS.

Usage::

    with SmtpServer() as server:                       # plain, no AUTH
        notifier = notifier_from_url(server.url())
        ...
        assert server.messages[0].message["Subject"] == "..."

    cert = make_self_signed_cert(tmp_path)             # for TLS
    with SmtpServer(tls="starttls", cert=cert, users={"shop": "s3cret"}) as server:
        url = server.url(user="shop", password="s3cret", cafile=cert.cert)

``server.messages`` holds what arrived (envelope, parsed message, login). With
``server.drop_after_data = True`` the server keeps each message it receives
but hangs up before answering the end of DATA, as a server that crashes or
loses its link right after queueing would.
"""

from __future__ import annotations

import datetime as dt
import email
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from types import TracebackType
from typing import Any, Literal
from urllib.parse import quote, urlencode

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

__all__ = ["CertPair", "Received", "SmtpServer", "free_port", "make_self_signed_cert"]

Tls = Literal["starttls", "ssl"] | None


@dataclass(frozen=True)
class CertPair:
    """Paths of a PEM certificate and its private key."""

    cert: Path
    key: Path


@dataclass(frozen=True)
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    login: str | None

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, EmailMessage, policy=default_policy)

    def body(self, subtype: str = "plain") -> str:
        """The text of the message's ``text/<subtype>`` part (it must have one)."""
        part = self.message.get_body((subtype,))
        assert part is not None, f"no text/{subtype} part"
        return str(part.get_content())


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def make_self_signed_cert(directory: Path) -> CertPair:
    """A certificate for 127.0.0.1 and localhost, valid for a day, written as PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pair = CertPair(cert=directory / "smtp-cert.pem", key=directory / "smtp-key.pem")
    pair.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pair.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return pair


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self._server = server

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if self._server.refuse_recipients:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        auth = session.auth_data
        login = auth.login.decode() if isinstance(auth, LoginPassword) else None
        received = Received(
            mail_from=envelope.mail_from,
            rcpt_tos=list(envelope.rcpt_tos),
            data=bytes(envelope.original_content or envelope.content),
            login=login,
        )
        with self._server.lock:
            self._server.messages.append(received)
            self._server.peers.add(tuple(session.peer))
        if self._server.drop_after_data and server.transport is not None:
            server.transport.abort()
            return "421 closing"
        return "250 OK"


class SmtpServer:
    """aiosmtpd in a thread on 127.0.0.1; a context manager."""

    def __init__(
        self,
        *,
        tls: Tls = None,
        cert: CertPair | None = None,
        users: dict[str, str] | None = None,
        port: int | None = None,
    ) -> None:
        if tls and cert is None:
            raise ValueError("TLS needs a certificate: make_self_signed_cert(tmp_path)")
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.tls = tls
        self.users = dict(users or {})
        self.messages: list[Received] = []
        self.peers: set[tuple[Any, ...]] = set()  # one (host, port) per client connection
        self.lock = threading.Lock()
        self.drop_after_data = False
        self.refuse_recipients = False  # answer every RCPT TO with 550
        context = None
        if cert is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert.cert, cert.key)
        self._controller = Controller(
            _Handler(self),
            hostname=self.host,
            port=self.port,
            ssl_context=context if tls == "ssl" else None,
            tls_context=context if tls == "starttls" else None,
            require_starttls=tls == "starttls",
            authenticator=self._authenticate if self.users else None,
            auth_required=False,
            auth_require_tls=tls == "starttls",
        )

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user, password = auth_data.login.decode(), auth_data.password.decode()
        ok = self.users.get(user) == password
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    @property
    def sessions(self) -> int:
        """How many client connections delivered at least one message."""
        with self.lock:
            return len(self.peers)

    def url(self, *, user: str = "", password: str = "", cafile: Path | None = None) -> str:
        """The SHEETQUEUE_NOTIFY entry that reaches this server."""
        scheme = {None: "smtp", "starttls": "smtp+starttls", "ssl": "smtps"}[self.tls]
        auth = f"{quote(user, safe='')}:{quote(password, safe='')}@" if user else ""
        query = f"?{urlencode({'cafile': str(cafile)})}" if cafile else ""
        return f"{scheme}://{auth}{self.host}:{self.port}{query}"

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._controller.stop()
