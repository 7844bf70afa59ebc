"""The Label column: what a cell the team fills reads as, the setting, the header and the file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from sheetqueue.config.errors import ConfigError
from sheetqueue.config.loading import load_settings
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.gsheets_header import TabTags, check_tagged, check_untagged
from sheetqueue.sheets.gsheets_layout import Layout
from sheetqueue.sheets.model import CANONICAL_HEADER, HEADER_BY_FIELD, Request, header_names
from sheetqueue.sheets.sqlite_store import SqliteStore
from sheetqueue.sheets.store import CellUpdate
from sheetqueue.worker.labels import (
    ColumnLabels,
    Label,
    LabelError,
    LabelWaiting,
    WebhookLabels,
    labels_from_settings,
    parse_label_cell,
)

LINK = "https://labels.example/ORD-1001.pdf"


@pytest.mark.parametrize(
    ("cell", "label"),
    [
        (LINK, Label(LINK)),
        (f"  {LINK}\n", Label(LINK)),
        (f"{LINK} 1Z999AA1 UPS", Label(LINK, "1Z999AA1", "UPS")),
        (f"{LINK}, 1Z999AA1; Royal Mail", Label(LINK, "1Z999AA1", "Royal Mail")),
        (f"{LINK} | 1Z999AA1", Label(LINK, "1Z999AA1")),
        ("HTTP://labels.example/a", Label("HTTP://labels.example/a")),
    ],
)
def test_a_label_cell_is_a_link_then_tracking_then_carrier(cell: str, label: Label) -> None:
    """The first word is the link; the second the tracking number; the rest the carrier."""
    assert parse_label_cell(cell) == label


@pytest.mark.parametrize("cell", ["", "   ", "\n"])
def test_an_empty_label_cell_is_waiting_not_a_failure(cell: str) -> None:
    """Nothing pasted yet: LabelWaiting, naming the Label column."""
    with pytest.raises(LabelWaiting, match="waiting for a label in the Label column"):
        parse_label_cell(cell)


@pytest.mark.parametrize(
    "cell",
    [
        "see the drive folder",
        "1Z999AA1 UPS",
        "javascript:alert(1)",
        '=HYPERLINK("https://labels.example/a")',
        "ftp://labels.example/a",
        "https://",
        "https:///no-host",
        'https://labels.example/"><script>',
        "https://labels.example/a<b",
        "mailto:team@example.com",
    ],
)
def test_a_label_cell_without_a_link_first_is_refused(cell: str) -> None:
    """Not an http(s) link with a host and plain characters: a LabelError saying what to paste."""
    with pytest.raises(LabelError) as caught:
        parse_label_cell(cell)
    assert not isinstance(caught.value, LabelWaiting)
    assert "not a label link" in str(caught.value) and "https://" in str(caught.value)


def test_a_long_cell_is_quoted_short_in_the_note() -> None:
    """The error quotes at most 40 characters of what the team typed."""
    with pytest.raises(LabelError) as caught:
        parse_label_cell("x" * 500)
    assert "x" * 39 + "…" in str(caught.value) and "x" * 41 not in str(caught.value)


def test_column_labels_read_the_request_label() -> None:
    """ColumnLabels gives the label of the row's own Label cell."""
    request = Request(request_id="REQ-1", type="return", label=f"{LINK} 1Z9 UPS")
    assert ColumnLabels().label_for(request) == Label(LINK, "1Z9", "UPS")


def test_the_label_source_setting_picks_the_column_or_the_webhook() -> None:
    """column: ColumnLabels; a webhook URL alone: the webhook; neither: no label source."""
    assert isinstance(labels_from_settings(Settings(label_source="column")), ColumnLabels)
    assert isinstance(labels_from_settings(Settings(label_source=" Column ")), ColumnLabels)
    hook = Settings(label_webhook="https://ship.example/labels")
    assert isinstance(labels_from_settings(hook), WebhookLabels)
    assert labels_from_settings(Settings()) is None


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"SHEETQUEUE_LABEL_SOURCE": "sheet"}, "'webhook' or 'column'"),
        ({"SHEETQUEUE_LABEL_SOURCE": "webhook"}, "needs SHEETQUEUE_LABEL_WEBHOOK"),
        (
            {"SHEETQUEUE_LABEL_SOURCE": "column", "SHEETQUEUE_LABEL_WEBHOOK": "https://x.example"},
            "two label sources",
        ),
    ],
)
def test_a_label_source_that_does_not_fit_is_bad_configuration(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: dict[str, str], words: str
) -> None:
    """An unknown word, webhook without its URL, or both sources: a ConfigError naming it."""
    monkeypatch.chdir(tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match="SHEETQUEUE_LABEL_SOURCE") as caught:
        load_settings()
    assert words in str(caught.value)


def test_the_label_column_is_read_when_present_and_never_added() -> None:
    """A tab headed Label has its column read; a tab without one misses nothing."""
    header = [*CANONICAL_HEADER, "Courier", " label "]
    layout = check_untagged([header], header_names(), "Requests")
    assert layout.columns["label"] == len(CANONICAL_HEADER) + 1
    assert Layout.from_header(list(CANONICAL_HEADER)).missing == []
    row = [""] * len(header)
    row[0], row[-1] = "REQ-1", LINK
    assert layout.request_of(row) == Request(request_id="REQ-1", label=LINK)


def test_a_second_label_column_stops_nothing_and_the_first_is_read() -> None:
    """Two columns headed Label: the first is the label, no header problem."""
    header = ["Label", *CANONICAL_HEADER, "Label"]
    assert check_untagged([header], header_names(), "Requests").columns["label"] == 0


def test_a_tagged_tab_finds_a_label_column_added_later_by_its_header() -> None:
    """The worker adopted the tab without a Label column; the team adds one: it is read."""
    fields = tuple(HEADER_BY_FIELD)
    tags = TabTags(
        sheet_id=0,
        title="Requests",
        columns={name: [index] for index, name in enumerate(fields)},
        queue_fields=fields,
        alert=None,
        merges=(),
    )
    header = [*CANONICAL_HEADER, "", "Label"]
    layout = check_tagged([header], tags, header_names())
    assert layout.columns["label"] == len(CANONICAL_HEADER) + 1
    without = check_tagged([list(CANONICAL_HEADER)], tags, header_names())
    assert "label" not in without.columns


def test_a_local_queue_file_made_before_the_label_column_gains_it(tmp_path: Path) -> None:
    """An older SQLite queue (no label column) opens, keeps its rows and stores a label."""
    path = tmp_path / "queue.db"
    columns = ", ".join(f"{name} TEXT NOT NULL DEFAULT ''" for name in HEADER_BY_FIELD)
    with sqlite3.connect(path) as db:
        db.execute(f"CREATE TABLE requests (position INTEGER PRIMARY KEY AUTOINCREMENT, {columns})")
        db.execute("INSERT INTO requests (request_id, status) VALUES ('REQ-OLD', 'Approved')")
    db.close()
    store = SqliteStore(path)
    try:
        [stored] = store.read_requests()
        assert stored.request.label == ""
        update = CellUpdate(stored.ref, {"request_id": "REQ-OLD"}, {"label": LINK})
        assert store.update_cells([update]).applied
        assert store.read_requests()[0].request.label == LINK
    finally:
        store.close()
    SqliteStore(path).close()  # opening it again adds nothing twice
