"""The store port: what the queue logic needs from a Google Sheet or a SQLite file.

Rows are found by Request ID, never by position; a :class:`RowRef` is an opaque
handle the store gave out with a read, used only to write back the cells of
that read. Writes are compare-and-set: each :class:`CellUpdate` says which
cells it expects to still hold what was read, and a row that changed is
skipped (reported, never written) so the next pass sees it fresh.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, overload, runtime_checkable

from sheetqueue.config.errors import StoreError
from sheetqueue.sheets.model import LogEntry, Request

__all__ = [
    "SCANNED_FIELDS",
    "SUMMARY_COLUMNS",
    "SUMMARY_ROWS",
    "WORD_FIELDS",
    "AddResult",
    "CellReader",
    "CellUpdate",
    "LandingUnknown",
    "QueueRead",
    "RowRef",
    "Store",
    "StoredRequest",
    "SummaryStore",
    "UpdateResult",
    "column_texts",
    "read_queue",
]

SCANNED_FIELDS = ("request_id", "status", "type", "notified")
"""The fields a pass reads on every row (:meth:`QueueRead.texts`), taken out as a read goes."""

WORD_FIELDS = frozenset({"status", "type"})
"""Scanned fields that hold a few words over and over: one string kept per distinct word."""

CellReader = Callable[[int, int, Any], str]
"""How a store makes one cell text, on demand: (sheet row, 0-based column, raw value) -> text."""


class LandingUnknown(StoreError):
    """An append was sent but its answer never came: its rows may land even now.

    The caller must not append them again until no earlier attempt can still
    land, and must then look their Request IDs up first.
    """


@dataclass(frozen=True)
class RowRef:
    """Where a request stood when it was read; meaningful only to its store."""

    position: int


class StoredRequest:
    """A request as read, with the handle to write it back.

    A store may hand the row over as its cells (``cells`` and the field ->
    index map ``columns``): the :class:`Request` model is only built when
    someone asks for :attr:`request`, and :meth:`text` reads one cell without
    it. Most rows of a real sheet are closed history that a pass looks at and
    leaves, so they never become models.
    """

    __slots__ = ("_cells", "_columns", "_reader", "_request", "ref")

    def __init__(
        self,
        request: Request | None,
        ref: RowRef,
        *,
        cells: Sequence[Any] = (),
        columns: Mapping[str, int] | None = None,
        reader: CellReader | None = None,
    ) -> None:
        if request is None and columns is None:
            raise ValueError("a stored request needs its model or its cells and columns")
        self._request = request
        self.ref = ref
        self._cells = cells
        self._columns = columns
        self._reader = reader  # raw cells made text when read (None: text already)

    @property
    def request(self) -> Request:
        if self._request is None:
            assert self._columns is not None
            self._request = Request(**{name: self.text(name) for name in self._columns})
            self._cells = ()
        return self._request

    def text(self, name: str) -> str:
        """One field's cell as text, without building the model."""
        if self._request is not None:
            return str(getattr(self._request, name))
        index = self._columns.get(name, -1) if self._columns is not None else -1
        if not 0 <= index < len(self._cells):
            return ""
        value = self._cells[index]
        if self._reader is not None:
            return self._reader(self.ref.position, index, value)
        return value if type(value) is str else _cell_text(value)

    def __repr__(self) -> str:
        return f"StoredRequest({self.request!r}, {self.ref!r})"


def _cell_text(value: Any) -> str:
    if isinstance(value, str):  # a marked cell (UnreadTime) stays itself
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)


class QueueRead(Sequence[StoredRequest]):
    """One read of the queue, kept as the rows' cells; a row's handle is made when asked for.

    A pass looks at most rows through a few columns (:meth:`texts`) and
    leaves them: only the rows it goes on with become :class:`StoredRequest`
    (and only those become models). ``positions[i]`` is row ``i``'s place as
    its :class:`RowRef` says. ``texts`` holds fields a store already made
    text as it read the rows (field -> one cell per row, as :meth:`texts`
    gives them): the rows themselves may then stay encoded until one is
    asked for.
    """

    def __init__(
        self,
        rows: Sequence[Sequence[Any]],
        positions: Sequence[int],
        columns: Mapping[str, int],
        reader: CellReader | None = None,
        dates: frozenset[int] = frozenset(),
        *,
        texts: Mapping[str, list[str]] | None = None,
    ) -> None:
        self._rows = rows
        self.positions = positions
        self._columns = columns
        self._reader = reader  # raw cells made text (None: text already)
        self._dates = dates  # columns whose text cells the reader reads too
        self._texts: dict[str, list[str]] = dict(texts or {})
        self._stored: list[StoredRequest] | None = None
        self._released = False

    @classmethod
    def of(cls, stored: Sequence[StoredRequest]) -> QueueRead:
        """Rows a store handed over as :class:`StoredRequest` already."""
        read = cls((), [s.ref.position for s in stored], {})
        read._stored = list(stored)
        return read

    def __len__(self) -> int:
        return len(self.positions)

    @overload
    def __getitem__(self, index: int) -> StoredRequest: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[StoredRequest]: ...

    def __getitem__(self, index: int | slice) -> StoredRequest | Sequence[StoredRequest]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if self._stored is not None:
            return self._stored[index]
        return StoredRequest(
            None,
            RowRef(self.positions[index]),
            cells=self._rows[index],
            columns=self._columns,
            reader=self._reader,
        )

    def __iter__(self) -> Iterator[StoredRequest]:
        return (self[i] for i in range(len(self)))

    def release(self) -> None:
        """Let the rows' cells go; the columns :meth:`texts` already gave stay (and positions)."""
        self._rows = ()
        self._stored = [] if self._stored is not None else None
        self._released = True

    def texts(self, name: str) -> list[str]:
        """One field's cells, as text, for every row (kept for the read)."""
        found = self._texts.get(name)
        if found is not None:
            return found
        if self._released:
            raise RuntimeError(f"the read was released before {name!r} was read")
        if self._stored is not None:
            found = [stored.text(name) for stored in self._stored]
        else:
            found = self._column(name)
        self._texts[name] = found
        return found

    def _column(self, name: str) -> list[str]:
        index = self._columns.get(name, -1)
        if index < 0:
            return [""] * len(self.positions)
        raw = [row[index] if index < len(row) else "" for row in self._rows]
        return column_texts(raw, self.positions, index, self._reader, self._dates)


def column_texts(
    raw: Sequence[Any],
    positions: Sequence[int],
    index: int,
    reader: CellReader | None,
    dates: frozenset[int],
) -> list[str]:
    """Column ``index``'s cells as read (one per row, at ``positions``) made text.

    A text cell stays itself, except in a ``dates`` column, where ``reader``
    reads every cell the sheet's way; ``reader`` makes text of any other cell
    (None: the plain rendering of numbers and checkboxes).
    """
    if reader is None:
        return [v if type(v) is str else _cell_text(v) for v in raw]
    if index not in dates:
        return [
            v if type(v) is str else reader(p, index, v)
            for p, v in zip(positions, raw, strict=True)
        ]
    return [reader(p, index, v) for p, v in zip(positions, raw, strict=True)]


def read_queue(store: Store) -> QueueRead:
    """The queue as :class:`QueueRead` (in one read): the store's own when it keeps cells."""
    reader = getattr(store, "read_queue", None)
    if callable(reader):
        read = reader()
        assert isinstance(read, QueueRead)
        return read
    return QueueRead.of(store.read_requests())


@dataclass(frozen=True)
class CellUpdate:
    """Set ``values`` on the row at ``ref`` if its ``expect`` cells are unchanged.

    Keys are :class:`Request` field names. ``expect`` always holds the Request
    ID and Status as read; a row without an ID also names other cells
    (timestamp, email, order) so a different blank row is never mistaken for it.
    """

    ref: RowRef
    expect: Mapping[str, str]
    values: Mapping[str, str]
    log: tuple[LogEntry, ...] = ()  # audit entries written only if this update applies


@dataclass(frozen=True)
class UpdateResult:
    applied: list[RowRef] = field(default_factory=list)
    skipped: list[RowRef] = field(default_factory=list)


@dataclass(frozen=True)
class AddResult:
    """For each request asked to be added, the one the queue now holds.

    ``created[i]`` is False when an open request with the same conversation,
    type and order, or the same Request ID, was already there: then
    ``requests[i]`` is that existing one.
    """

    requests: list[Request]
    created: list[bool]


class Store(Protocol):
    """The queue and its side tables, wherever they live."""

    def read_requests(self) -> list[StoredRequest]:
        """Every row of the queue, in sheet order, in one read."""
        ...

    def add_requests(self, requests: Sequence[Request]) -> AddResult:
        """Append new requests at the end in one write, skipping ones already there.

        Raises :class:`LandingUnknown` when the write was sent but not answered.
        """
        ...

    def update_cells(
        self, updates: Sequence[CellUpdate], log: Sequence[LogEntry] = ()
    ) -> UpdateResult:
        """Write the cells of rows that still hold what was read, in one write.

        The audit entries of applied updates, and ``log`` (changes seen, not
        made), go to the audit log in the same write.
        """
        ...

    def ensure_header(self) -> list[str]:
        """Add missing canonical columns to the right of the header; return those added."""
        ...

    def append_log(self, entries: Sequence[LogEntry]) -> None:
        """Add status changes to the audit log."""
        ...

    def read_log(self) -> list[LogEntry]:
        """The audit log, oldest first."""
        ...

    def read_orders(self) -> list[dict[str, Any]]:
        """The rows of the Orders tab, as records keyed by header."""
        ...

    def replace_orders(self, records: Sequence[Mapping[str, Any]]) -> int:
        """Replace the Orders tab with these records; return how many."""
        ...

    def close(self) -> None: ...


SUMMARY_ROWS = 60
"""Rows of the Summary tab's block: a table is written padded with blanks to this height."""
SUMMARY_COLUMNS = 5
"""Columns of the Summary tab's block (A:E)."""


@runtime_checkable
class SummaryStore(Protocol):
    """A store that keeps the team's Summary tab (the Google Sheet)."""

    def summary_seen(self) -> list[list[Any]] | None:
        """The Summary tab as read with the queue; None when there is none (or none known)."""
        ...

    def put_summary(self, table: Sequence[Sequence[str]]) -> bool:
        """Write ``table`` with the next cell write (its batch), or alone if there is none.

        False: nothing staged (the store keeps no Summary tab).
        """
        ...
