"""The ``Notified`` cell: the worker's memory of a row, kept in the sheet itself.

The cell is a list of entries separated by ``; ``. Together they say what the
worker has seen of the row and what the shopper was told, so a worker on a new
host (or after its state file was lost) knows everything it needs from the
sheet alone:

=============================================  ==========================================
``seen Pending 2026-11-22T09:30:00Z``          first seen open, in that status
``adopted Done 2026-11-22T09:30:00Z``          first seen already closed: history, never told
``Done owed 2026-11-22T09:30:00Z``             the shopper must be told; written in the same
                                               write as the status it is about
``Done owed 2026-11-22T09:30:00Z email``       ... and the email already carried it
``Done owed 2026-11-22T09:30:00Z email sending   ... being handed to the email since that
2026-11-22T09:31:05Z``                         time: written just before the send; a worker
                                               that finds a mark it did not write (a
                                               takeover, a lost state file) records it
                                               ``email maybe`` and never sends it again
``Done 2026-11-22T09:30:00Z email``            told, when, and which channel carried it
``Done 2026-11-22T09:30:00Z webhook maybe``    the webhook got it but never answered: maybe
                                               delivered, not sent again
``Done 2026-11-22T09:30:00Z email, webhook gave up``  email carried it, the webhook never did
``Done not sent (no address to send to)``      nothing could carry it
``Done not sent (gave up after 5 tries: ...)`` every try failed
``Done untold owed 2026-11-22T09:40:00Z``      the team must be told the shopper could not
                                               be told (given up, or maybe delivered);
                                               owed in the write that settles the notice
``Done untold 2026-11-22T09:45:00Z team``      ... and the team's alert carried it
=============================================  ==========================================

Channels are ``email`` (SMTP or Maildir), ``webhook``, ``apprise``, ``log`` and
``team``. An ``untold`` entry is a notice of its own (its own ledger row, sending
marks and outcome) that only the team's channels carry. A cell with
at least one entry means "the worker has seen this row"; an empty cell on a
closed row means the row is history. Text a person typed into the cell is
kept as it is. :func:`parse` and :meth:`Cell.render` round-trip exactly, so a
cell the worker has nothing new to say about is never rewritten.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

from sheetqueue.sheets.model import Status
from sheetqueue.worker.notice_records import NoticeState

__all__ = [
    "Cell",
    "Entry",
    "adopted_entry",
    "channel_of",
    "channels_of",
    "finished_entry",
    "foreign_sending",
    "may_tell_of_failure",
    "owed_entry",
    "parse",
    "seen_entry",
    "sending_entry",
    "untold_entry",
]

Kind = Literal["seen", "adopted", "owed", "told", "not_sent", "other"]

_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_CHANNEL = re.compile(
    r"^([a-z][a-z0-9+._-]*)( maybe| gave up| sending (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z))?$"
)
_STATUSES = sorted(Status, key=lambda s: -len(s.value))
UNTOLD = "untold"


@dataclass(frozen=True)
class Entry:
    """One entry of the cell; ``status`` is the word as written (it may be unknown)."""

    kind: Kind
    status: str = ""
    time: str = ""
    carried: tuple[str, ...] = ()  # channels that delivered it
    maybe: tuple[str, ...] = ()  # channels whose outcome is unknown
    gave_up: tuple[str, ...] = ()  # channels that never delivered it
    sending: tuple[str, ...] = ()  # owed: channels it is being handed to right now
    sending_at: str = ""  # when that sending mark was written (which worker's mark it is)
    reason: str = ""  # not_sent: why
    raw: str = ""  # other: the text as a person typed it

    def render(self) -> str:
        if self.kind == "other":
            return self.raw
        if self.kind in ("seen", "adopted"):
            return f"{self.kind} {self.status} {self.time}".strip()
        if self.kind == "not_sent":
            return f"{self.status} not sent ({self.reason})"
        channels = [
            *self.carried,
            *(f"{c} maybe" for c in self.maybe),
            *(f"{c} gave up" for c in self.gave_up),
            *(f"{c} sending {self.sending_at}" for c in self.sending),
        ]
        words = [self.status, "owed" if self.kind == "owed" else "", self.time, ", ".join(channels)]
        return " ".join(word for word in words if word)

    @property
    def parsed_status(self) -> Status | None:
        return Status.parse(self.status) if self.status.strip() else None

    @property
    def untold(self) -> bool:
        """The team's alert that the shopper could not be told (``Done untold ...``)."""
        return self.status.endswith(f" {UNTOLD}")

    @property
    def could_not_tell(self) -> bool:
        """A settled shopper notice no shopper channel surely carried: given up, or maybe."""
        if self.untold or self.kind not in ("told", "not_sent"):
            return False
        if self.kind == "not_sent":
            return self.reason.startswith("gave up")
        if any(channel != "team" for channel in self.carried):
            return False
        return any(channel != "team" for channel in (*self.maybe, *self.gave_up))

    @property
    def is_notice(self) -> bool:
        """An entry about telling the shopper (owed, told or not sent)."""
        return self.kind in ("owed", "told", "not_sent")

    @property
    def gave_up_sentence(self) -> str:
        """The Worker Note sentence when some or all of this notice never went out."""
        if self.untold:
            return ""  # about the team's alert, not the shopper
        if self.kind == "not_sent" and self.reason.startswith("gave up"):
            tries, _, error = self.reason.removeprefix("gave up").strip().partition(": ")
            said = f" {tries}" if tries else ""
            why = f" ({error})" if error else ""
            return (
                f"Could not tell the shopper about {self.status}{said}{why}; "
                "please contact them another way."
            )
        if self.kind == "told" and self.gave_up == ("team",):
            return ""  # only the team's alert failed: the shopper was not to be told
        if self.kind == "told" and self.gave_up and not self.carried and not self.maybe:
            return (
                f"Could not tell the shopper about {self.status}; please contact them another way."
            )
        return ""


@dataclass(frozen=True)
class Cell:
    """A parsed ``Notified`` cell."""

    entries: tuple[Entry, ...] = field(default_factory=tuple)

    def render(self) -> str:
        return "; ".join(entry.render() for entry in self.entries)

    @property
    def seen_by_worker(self) -> bool:
        """True when the worker has left at least one entry: the row is not new to it."""
        return any(entry.kind != "other" for entry in self.entries)

    def notice(self, status: Status) -> Entry | None:
        """The entry about ``status`` (owed, told, not sent or adopted), if any."""
        for entry in self.entries:
            if entry.kind != "seen" and entry.kind != "other" and entry.parsed_status == status:
                return entry
        return None

    def entry_for(self, word: str) -> Entry | None:
        """The notice entry written with this word (``Done``, ``Done untold``), if any."""
        status = Status.parse(word)
        if status is not None:
            return self.notice(status)
        return next((e for e in self.entries if e.is_notice and e.status == word), None)

    def owed(self) -> list[Entry]:
        return [entry for entry in self.entries if entry.kind == "owed"]

    @property
    def seen_closed(self) -> Status | None:
        """A closed status the worker once saw this row in, if any."""
        for entry in self.entries:
            status = entry.parsed_status
            if entry.kind != "other" and status is not None and status.is_closed:
                return status
        return None

    def with_entry(self, new: Entry) -> Cell:
        """This cell with ``new`` replacing the entry about the same status, or appended."""
        entries = list(self.entries)
        for index, entry in enumerate(entries):
            if entry.is_notice and entry.status == new.status:
                entries[index] = new
                return Cell(tuple(entries))
        return Cell((*entries, new))

    def gave_up_sentence(self) -> str:
        sentences = [entry.gave_up_sentence for entry in self.entries]
        return " ".join(sentence for sentence in sentences if sentence)


def may_tell_of_failure(text: str) -> bool:
    """Whether the cell may hold a notice not surely delivered (False: it certainly holds none).

    :meth:`Entry.render` writes every such entry with one of these words (a
    channel that ``gave up`` or is ``maybe``, a notice ``not sent``), so a cell
    without any of them need not be parsed to know it.
    """
    return "not sent" in text or "maybe" in text or "gave up" in text


def parse(text: str) -> Cell:
    """Read a ``Notified`` cell, old forms (``Done 2026-...``, no channel) included."""
    return Cell(tuple(_entry(part.strip()) for part in text.split(";") if part.strip()))


def _entry(text: str) -> Entry:
    other = Entry("other", raw=text)
    first, _, rest = text.partition(" ")
    if first in ("seen", "adopted"):
        word, _, when = rest.rpartition(" ")
        if not (_TIME.fullmatch(when) and word):
            return other
        return Entry("seen" if first == "seen" else "adopted", status=word, time=when)
    status = next((s for s in _STATUSES if text.lower().startswith(s.value.lower())), None)
    if status is None:
        return other
    rest = text[len(status.value) :].strip()
    word = status.value
    if rest == UNTOLD or rest.startswith(f"{UNTOLD} "):
        word, rest = f"{word} {UNTOLD}", rest[len(UNTOLD) :].strip()
    if rest.startswith("not sent (") and rest.endswith(")"):
        return Entry("not_sent", status=word, reason=rest[len("not sent (") : -1])
    kind: Kind = "told"
    if rest.startswith("owed"):
        kind, rest = "owed", rest[len("owed") :].strip()
    when, _, tail = rest.partition(" ")
    if when and not _TIME.fullmatch(when):
        return other
    carried, maybe, gave_up, sending = _channels(tail)
    if carried is None or (sending and kind != "owed"):
        return other
    times = {at for _channel, at in sending}
    if len(times) > 1:
        return other
    channels = tuple(channel for channel, _at in sending)
    at = times.pop() if times else ""
    return Entry(kind, word, when, carried, maybe, gave_up, channels, at)


_Channels = tuple[
    tuple[str, ...] | None, tuple[str, ...], tuple[str, ...], tuple[tuple[str, str], ...]
]


def _channels(tail: str) -> _Channels:
    carried: list[str] = []
    maybe: list[str] = []
    gave_up: list[str] = []
    sending: list[tuple[str, str]] = []
    kinds = {None: carried, " maybe": maybe, " gave up": gave_up}
    for item in (part.strip() for part in tail.split(",") if part.strip()):
        match = _CHANNEL.match(item)
        if match is None:
            return None, (), (), ()
        if match.group(3):
            sending.append((match.group(1), match.group(3)))
        else:
            kinds[match.group(2)].append(match.group(1))
    return tuple(carried), tuple(maybe), tuple(gave_up), tuple(sending)


def channel_of(notifier_name: str) -> str:
    """The channel word of a notifier: ``email``, ``webhook``, ``log``."""
    scheme = notifier_name.partition(":")[0].lower()
    if scheme.startswith("smtp") or scheme == "maildir":
        return "email"
    return scheme or "other"


def channels_of(names: Iterable[str]) -> tuple[str, ...]:
    """Channel words of several notifiers, each once, in order."""
    return tuple(dict.fromkeys(channel_of(name) for name in names))


def finished_entry(
    status: str,
    *,
    state: NoticeState,
    when: str,
    carried: Iterable[str],
    maybe: Iterable[str],
    failed: Iterable[str],
    attempts: int,
    last_error: str,
) -> Entry:
    """The entry a notice's ledger state gives (notifier names turned into channels)."""
    carried_c, maybe_c = channels_of(carried), channels_of(maybe)
    if state is NoticeState.PENDING:
        return Entry("owed", status, when, carried_c, maybe_c)
    if state is NoticeState.SKIPPED:
        return Entry("not_sent", status, reason="no address to send to")
    only_team = channels_of(failed) == ("team",)  # the team's alert alone failed
    if state is NoticeState.GAVE_UP and not carried_c and not maybe_c and not only_team:
        error = _one_line(last_error)
        return Entry("not_sent", status, reason=f"gave up after {attempts} tries: {error}")
    gave_up_c = channels_of(failed) if state is NoticeState.GAVE_UP else ()
    return Entry("told", status, when, carried_c, maybe_c, gave_up_c)


def _one_line(text: str) -> str:
    """A reason that cannot break the cell's format."""
    return " ".join(text.replace(";", ",").replace("(", "[").replace(")", "]").split())


def sending_entry(entry: Entry, channels: Iterable[str], at: str) -> Entry:
    """An owed entry marked, at ``at``, as being handed to ``channels``."""
    new = tuple(c for c in dict.fromkeys(channels) if c not in entry.carried + entry.maybe)
    return replace(entry, sending=new, sending_at=at if new else "")


def foreign_sending(entry: Entry) -> Entry:
    """An owed entry whose sending mark no record here explains: those channels maybe carried it."""
    maybe = tuple(dict.fromkeys((*entry.maybe, *entry.sending)))
    unsure = tuple(c for c in maybe if c not in entry.carried)
    return replace(entry, maybe=unsure, sending=(), sending_at="")


def owed_entry(status: Status, when: str) -> Entry:
    return Entry("owed", status.value, when)


def untold_entry(status: str, when: str) -> Entry:
    """The team's alert owed, about the shopper's notice of ``status`` that did not reach them."""
    return Entry("owed", f"{status} {UNTOLD}", when)


def adopted_entry(status: str, when: str) -> Entry:
    return Entry("adopted", _word(status), when)


def seen_entry(status: str, when: str) -> Entry:
    return Entry("seen", _word(status), when)


def _word(status: str) -> str:
    return " ".join(status.replace(";", ",").split()) or Status.PENDING.value
