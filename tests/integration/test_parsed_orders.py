"""Orders parsed by one pass are kept for the next only while their row reads the same."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

from sheetqueue.sheets.order_sources import ParsedOrders, TabOrderSource
from sheetqueue.sheets.sqlite_store import SqliteStore
from tests.factories import make_order_record

EMAIL = "ana@example.com"


def _source(store: SqliteStore, parsed: ParsedOrders) -> TabOrderSource:
    """A pass's order source (one per pass), sharing the worker's parsed orders."""
    return TabOrderSource(store, UTC, parsed=parsed)


def test_an_unchanged_row_gives_the_order_parsed_before(tmp_path: Path) -> None:
    """The next pass gets the very order object the last one parsed: no second validation."""
    store = SqliteStore(tmp_path / "q.db")
    store.replace_orders([make_order_record(), make_order_record(order_id="ORD-1002")])
    parsed = ParsedOrders()
    first = _source(store, parsed).get("ORD-1001", EMAIL)
    again = _source(store, parsed).get("ord-1001 ", EMAIL)
    assert first is not None and again is first


def test_a_row_the_team_changed_is_parsed_again(tmp_path: Path) -> None:
    """A changed cell is a new order: the pass after the edit sees the edit."""
    store = SqliteStore(tmp_path / "q.db")
    store.replace_orders([make_order_record(status="processing")])
    parsed = ParsedOrders()
    before = _source(store, parsed).get("ORD-1001", EMAIL)
    store.replace_orders([make_order_record(status="shipped")])
    after = _source(store, parsed).get("ORD-1001", EMAIL)
    assert before is not None and after is not None
    assert (before.status, after.status) == ("processing", "shipped")


def test_an_invalid_row_is_refused_every_pass_and_never_kept(tmp_path: Path) -> None:
    """A row that is no valid order stays refused; once mended, the mended order is read."""
    store = SqliteStore(tmp_path / "q.db")
    store.replace_orders([make_order_record(order_date="not a date")])
    parsed = ParsedOrders()
    assert _source(store, parsed).get("ORD-1001", EMAIL) is None
    assert _source(store, parsed).get("ORD-1001", EMAIL) is None
    store.replace_orders([make_order_record()])
    assert _source(store, parsed).get("ORD-1001", EMAIL) is not None


def test_at_most_size_rows_are_kept_the_oldest_going_first(tmp_path: Path) -> None:
    """The memory is bounded: past its size the first order kept is parsed afresh."""
    store = SqliteStore(tmp_path / "q.db")
    store.replace_orders([make_order_record(order_id=f"ORD-{n}") for n in range(3)])
    parsed = ParsedOrders(size=2)
    kept = [_source(store, parsed).get(f"ORD-{n}", EMAIL) for n in range(3)]
    assert _source(store, parsed).get("ORD-2", EMAIL) is kept[2]
    assert _source(store, parsed).get("ORD-0", EMAIL) is not kept[0]
