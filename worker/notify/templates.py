"""The words sent to shoppers: one template per (status, type), overridable.

Templates are plain files read with :class:`string.Template` (``$name``
placeholders). Shopper and team text is substituted once, as a value: it is
never parsed as a template or a format string, and every value is
HTML-escaped in the HTML variant.

File names (package data in ``worker/templates/``; a file with the same name
in ``templates_dir`` wins)::

    <status>.<type>.<code>.txt   e.g. ineligible.cancellation.alreadyShipped.txt
    <status>.<type>.txt          e.g. done.refund.txt, needs_review.return.txt
    <status>.txt                 e.g. rejected.txt
    default.txt                  anything else
    <same name>.html             optional HTML variant beside a .txt
    layout.html                  wraps the text as HTML when no .html variant exists

``<status>`` is ``pending``, ``eligible``, ``needs_review``, ``ineligible``,
``approved``, ``in_progress``, ``done`` or ``rejected``; ``<type>`` is the
request type (``cancellation``, ``refund``, ``return``, ``exchange``,
``address_change``, ``unsubscribe``, ``support``); ``<code>`` is the code of
the ``Decision`` cell (``alreadyShipped`` in ``ineligible:alreadyShipped``).
The first name that exists in that order is used.

A ``.txt`` template starts with a ``Subject: ...`` line and a blank line; the
rest is the body. Placeholders: ``$store_name``, ``$request_id``,
``$order_id``, ``$order_ref`` ("order ORD-1001", or "your order" when there
is none), ``$type`` and ``$type_label`` (the request type in plain words),
``$status`` and ``$status_label``, ``$message`` (the decision's sentence),
``$team_message`` (the team's ``Shopper Message``), ``$next_step``,
``$refund_processing_days`` and ``$return_ship_back_days`` (from the policy);
on an approved return or exchange also ``$ship_back_by`` (the deadline) and,
with a label source, ``$label_url``, ``$label_carrier``,
``$label_tracking_number`` and ``$label_expires_at``; ``$help_link`` is the
store's self-service page for the type (``[links]``), when configured.
``layout.html`` takes ``$subject``, ``$store_name`` and ``$body``.

A line that uses ``$message``, ``$team_message``, ``$next_step`` or one of
the label values is left out when that value is empty, so optional sentences
need no conditionals.
"""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

from sheetqueue.config.policy import Policy
from sheetqueue.sheets.model import RequestType, Status
from sheetqueue.worker.notify.message import Notice, OutgoingMessage, message_id_for, status_slug

__all__ = [
    "OPTIONAL_PLACEHOLDERS",
    "PLACEHOLDER",
    "Rendered",
    "Templates",
    "build_message",
    "placeholder_names",
    "template_chain",
]

OPTIONAL_PLACEHOLDERS = frozenset(
    {
        "message",
        "team_message",
        "next_step",
        "ship_back_by",
        "label_url",
        "label_carrier",
        "label_tracking_number",
        "label_expires_at",
        "help_link",
    }
)
"""A template line using one of these is dropped when its value is empty."""

PLACEHOLDER = re.compile(
    r"\$(?:\{(?P<braced>[_a-z][_a-z0-9]*)\}|(?P<named>[_a-z][_a-z0-9]*))", re.I
)
_EXTRA_PLACEHOLDERS = (
    "help_link",
    "ship_back_by",
    "label_url",
    "label_carrier",
    "label_tracking_number",
    "label_expires_at",
)
_SAFE_CODE = re.compile(r"^[A-Za-z0-9_]{1,64}$")
_DEFAULT_SUBJECT = "$store_name: an update on $order_ref"

_TYPE_LABELS = {
    RequestType.CANCELLATION: "order cancellation",
    RequestType.REFUND: "refund",
    RequestType.RETURN: "return",
    RequestType.EXCHANGE: "exchange",
    RequestType.ADDRESS_CHANGE: "address change",
    RequestType.UNSUBSCRIBE: "unsubscribe request",
    RequestType.SUPPORT: "support request",
}
_STATUS_LABELS = {
    Status.PENDING: "received",
    Status.ELIGIBLE: "accepted and waiting for our team",
    Status.NEEDS_REVIEW: "with our team for review",
    Status.INELIGIBLE: "not possible",
    Status.APPROVED: "approved",
    Status.IN_PROGRESS: "in progress",
    Status.DONE: "done",
    Status.REJECTED: "declined",
}


@dataclass(frozen=True, slots=True)
class Rendered:
    """A notice in words: the template used, subject, text and HTML."""

    name: str
    subject: str
    text: str
    html: str


def template_chain(notice: Notice) -> list[str]:
    """Template names to try for ``notice``, most specific first."""
    status = status_slug(notice.status)
    names: list[str] = []
    if notice.request_type is not None:
        kind = notice.request_type.value
        if _SAFE_CODE.match(notice.decision_code):
            names.append(f"{status}.{kind}.{notice.decision_code}")
        names.append(f"{status}.{kind}")
    names.extend([status, "default"])
    return names


class Templates:
    """Reads templates from ``override_dir`` first, then from the package."""

    def __init__(self, override_dir: Path | None = None) -> None:
        self.override_dir = override_dir
        self._cache: dict[str, str | None] = {}

    def source(self, filename: str) -> str | None:
        """The text of one template file, or None when neither place has it."""
        if filename not in self._cache:
            self._cache[filename] = self._read(filename)
        return self._cache[filename]

    def _read(self, filename: str) -> str | None:
        if self.override_dir is not None:
            candidate = self.override_dir / filename
            if candidate.is_file():
                return candidate.read_text(encoding="utf-8")
        packaged = resources.files("sheetqueue.worker").joinpath("templates", filename)
        return packaged.read_text(encoding="utf-8") if packaged.is_file() else None

    def render(self, notice: Notice, values: dict[str, str]) -> Rendered:
        """Fill the first template of the chain with ``values``.

        The shopper's language folder (``es/``) is tried first, whole chain,
        then the default language (the top folder).
        """
        folders = [f"{notice.language}/"] if notice.language else []
        for name in (folder + name for folder in [*folders, ""] for name in template_chain(notice)):
            source = self.source(f"{name}.txt")
            if source is not None:
                break
        else:  # pragma: no cover - default.txt ships with the package
            name, source = "default", "$message"
        subject_source, body_source = _split_subject(source)
        subject = " ".join(_fill(subject_source, values).split())
        text = _fill(body_source, values)
        html_source = self.source(f"{name}.html")
        if html_source is not None:
            body_html = _fill(html_source, {k: _escape(v) for k, v in values.items()})
        else:
            body_html = self._layout(subject, text, values["store_name"])
        return Rendered(name=name, subject=subject, text=text, html=body_html)

    def _layout(self, subject: str, text: str, store_name: str) -> str:
        layout = self.source("layout.html") or "$body"
        paragraphs = [part.strip() for part in re.split(r"\n\s*\n", text) if part.strip()]
        body = "\n".join(f"<p>{_escape(part)}</p>" for part in paragraphs)
        return Template(layout).safe_substitute(
            subject=_escape(subject), store_name=_escape(store_name), body=body
        )


def build_message(
    notice: Notice,
    *,
    mail_from: str = "support@localhost",
    templates: Templates | None = None,
    policy: Policy | None = None,
) -> OutgoingMessage:
    """Render ``notice`` into the message every notifier sends."""
    rendered = (templates or Templates()).render(notice, _values(notice, policy or Policy()))
    message_id = message_id_for(notice.request_id, notice.status, mail_from)
    return OutgoingMessage(
        request_id=notice.request_id,
        status=notice.status,
        request_type=notice.request_type,
        order_id=notice.order_id,
        to_email=notice.email,
        to_phone=notice.phone,
        from_email=mail_from,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        message_id=message_id,
        idempotency_key=message_id.strip("<>"),
        reason=notice.decision_code,
    )


def placeholder_names() -> frozenset[str]:
    """Every ``$name`` a shopper template may use."""
    sample = Notice(request_id="REQ-SAMPLE", request_type=None, status=Status.DONE)
    return frozenset(_values(sample, Policy()))


def _values(notice: Notice, policy: Policy) -> dict[str, str]:
    kind = notice.request_type
    return {
        "store_name": notice.store_name,
        "request_id": notice.request_id,
        "order_id": notice.order_id,
        "order_ref": f"order {notice.order_id}" if notice.order_id else "your order",
        "type": kind.value if kind else "request",
        "type_label": _TYPE_LABELS[kind] if kind else "request",
        "status": notice.status.value,
        "status_label": _STATUS_LABELS[notice.status],
        "message": notice.message.strip(),
        "team_message": notice.shopper_message.strip(),
        "next_step": notice.next_step.strip(),
        "refund_processing_days": policy.refund_processing_days,
        "return_ship_back_days": str(policy.return_ship_back_days),
        **{name: "" for name in _EXTRA_PLACEHOLDERS},
        **{name: value for name, value in notice.values if name in _EXTRA_PLACEHOLDERS},
    }


def _split_subject(source: str) -> tuple[str, str]:
    first, _, rest = source.partition("\n")
    if first.lower().startswith("subject:"):
        return first.split(":", 1)[1].strip(), rest
    return _DEFAULT_SUBJECT, source


def _fill(source: str, values: dict[str, str]) -> str:
    """Substitute once, dropping lines whose optional placeholders are empty."""
    kept = [
        line.safe_substitute(values)
        for line, optional in _compiled(source)
        if not any(not values.get(name) for name in optional)
    ]
    text = _BLANK_RUNS.sub("\n\n", "\n".join(kept)).strip("\n")
    return text + "\n"


_BLANK_RUNS = re.compile(r"\n{3,}")


@functools.lru_cache(maxsize=256)
def _compiled(source: str) -> tuple[tuple[Template, frozenset[str]], ...]:
    """A template's lines, each ready to fill, with the optional placeholders it uses.

    Kept per template text, so a pass renders every message from templates
    read and compiled once.
    """
    chunks: list[tuple[Template, frozenset[str]]] = []
    plain: list[str] = []  # lines without an optional placeholder, filled as one chunk
    for line in source.splitlines():
        used = {m.group("braced") or m.group("named") for m in PLACEHOLDER.finditer(line)}
        optional = frozenset(used & OPTIONAL_PLACEHOLDERS)
        if not optional:
            plain.append(line)
            continue
        if plain:
            chunks.append((Template("\n".join(plain)), frozenset()))
            plain = []
        chunks.append((Template(line), optional))
    if plain:
        chunks.append((Template("\n".join(plain)), frozenset()))
    return tuple(chunks)


def _escape(value: str) -> str:
    return html.escape(value, quote=True).replace("\n", "<br>\n")
