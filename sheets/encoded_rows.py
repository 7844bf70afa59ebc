"""Rows kept as the JSON the Sheets API sent, decoded row by row when read.

A pass reads the queue and the Orders tab in one ``values.batchGet``. Most of
those rows are history the pass looks at through a column or a few and
leaves: kept encoded, a row costs one small object pointing into the
answer's bytes instead of a list and a string per cell, and only the rows a
pass goes on with are decoded in full.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, cast, overload

import msgspec

__all__ = ["EncodedRows", "picked"]


class EncodedRows(Sequence[list[Any]]):
    """A block's rows as the API encoded them (``msgspec.Raw`` each); a row decodes when read."""

    __slots__ = ("_rows",)

    def __init__(self, rows: Sequence[msgspec.Raw]) -> None:
        self._rows = rows

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> list[Any]: ...

    @overload
    def __getitem__(self, index: slice) -> EncodedRows: ...

    def __getitem__(self, index: int | slice) -> list[Any] | EncodedRows:
        if isinstance(index, slice):
            return EncodedRows(self._rows[index])
        return cast(list[Any], msgspec.json.decode(self._rows[index]))

    def __iter__(self) -> Iterator[list[Any]]:
        return cast(Iterator[list[Any]], map(msgspec.json.decode, self._rows))

    @classmethod
    def joined(cls, header: EncodedRows, body: EncodedRows) -> EncodedRows:
        """Row 1 (read as its own range) and the rows below it as one table, still encoded."""
        return cls([*(header._rows[:1] or [_NO_ROW]), *body._rows])

    def picked(self, indexes: Iterable[int]) -> EncodedRows:
        """The rows at ``indexes``, in that order, still encoded."""
        rows = self._rows
        return EncodedRows([rows[index] for index in indexes])


_NO_ROW = msgspec.Raw(b"[]")


def picked(rows: Sequence[list[Any]], indexes: Iterable[int]) -> Sequence[list[Any]]:
    """The rows at ``indexes`` of a block, encoded rows staying encoded."""
    if isinstance(rows, EncodedRows):
        return rows.picked(indexes)
    return [rows[index] for index in indexes]
