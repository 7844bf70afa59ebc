"""The Apps Script companion under Node: what it posts, signs, queues, ignores and installs."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sheetqueue.companion import filled_script, script_text
from sheetqueue.sheets.model import CANONICAL_HEADER
from tests.apps_script_kit import NODE, EventSink, requests_tab, run_script
from tests.cli_runner import SheetqueueCli

pytestmark = pytest.mark.skipif(
    NODE is None, reason="node (Node.js) is not on PATH; `make test` installs it with apt-get"
)

SECRET = "shop-secret-ü-42"
EVENT_KEYS = {"id", "request_id", "column", "old", "new", "by", "at"}
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def col(name: str) -> int:
    return CANONICAL_HEADER.index(name) + 1


def rows(count: int, start: int = 1, **cells: str) -> list[dict[str, str]]:
    return [{"Request ID": f"R-{start + i}", "Status": "Pending", **cells} for i in range(count)]


@pytest.fixture(scope="module")
def sink() -> Iterator[EventSink]:
    """One capturing HTTP server on 127.0.0.1 for the module."""
    with EventSink() as server:
        yield server


@pytest.fixture(scope="module")
def script(sink: EventSink, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Code.gs as ``sheetqueue apps-script`` prints it for the sink's address."""
    folder = tmp_path_factory.mktemp("apps-script")
    cli = SheetqueueCli(folder, SHEETQUEUE_SHEET_EVENTS_SECRET=SECRET)
    done = cli("apps-script", "--url", sink.url)
    assert done.code == 0, done.stderr
    path = folder / "Code.gs"
    path.write_text(done.stdout, encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _fresh_sink(sink: EventSink) -> None:
    sink.reset()


def run(
    code: Path, tabs: dict[str, list[list[str]]], steps: list[dict[str, Any]], **scenario: Any
) -> dict[str, Any]:
    """Run the script; it must never touch a sheet-writing method and must free every lock."""
    report = run_script(code, tabs, steps, **scenario)
    assert report["forbidden"] == []
    assert report["locks_held"] == 0
    return report


def edit(
    row: int,
    column: str,
    old: str,
    new: str,
    *,
    tab: str = "Requests",
    user: str | None = "ann@shop.example",
) -> dict[str, Any]:
    change: dict[str, Any] = {
        "tab": tab,
        "row": row,
        "column": col(column),
        "old": old,
        "value": new,
        "values": [[new]],
    }
    if user is not None:
        change["user"] = user
    return {"call": "onSheetEdit", "edit": change}


def paste(
    row: int, column: str, values: list[list[str]], *, tab: str = "Requests"
) -> dict[str, Any]:
    change = {
        "tab": tab,
        "row": row,
        "column": col(column),
        "rows": len(values),
        "columns": len(values[0]),
        "values": values,
    }
    return {"call": "onSheetEdit", "edit": change}


def queued(report: dict[str, Any]) -> int:
    return int(report["props"].get("sheetqueue.queue.n", "0"))


def test_the_signature_is_pythons_hmac_over_the_exact_body(sink: EventSink, script: Path) -> None:
    """The signature's v1 is Python's HMAC-SHA256(secret, "<t>." + the raw body sent)."""
    note = 'Remboursé ✓ 😀 "quoted"'
    tabs = {"Requests": requests_tab(*rows(2))}
    report = run(
        script,
        tabs,
        [edit(3, "Status", "Pending", "Approved"), edit(2, "Team Note", "", note, user=None)],
        active_user="",
    )
    assert [step["error"] for step in report["steps"]] == [None, None]
    assert len(sink.posted) == 2
    assert all(fetch["mute"] for fetch in report["fetches"])
    for posted in sink.posted:
        assert posted.path == "/v1/sheet-events"
        assert posted.headers["Content-Type"] == "application/json"
        match = re.fullmatch(r"t=(\d+),v1=([0-9a-f]{64})", posted.headers["X-Sheetqueue-Signature"])
        assert match is not None
        stamp, signature = match.groups()
        expected = hmac.new(SECRET.encode(), stamp.encode() + b"." + posted.body, hashlib.sha256)
        assert signature == expected.hexdigest()
        assert abs(int(stamp) - time.time()) < 60
        posted.body.decode("ascii")  # every non-ASCII character travels escaped
        document = posted.json()
        assert set(document) == {"sent_at", "spreadsheet_id", "events"}
        assert ISO_UTC.match(document["sent_at"]) and document["spreadsheet_id"] == "book-1"
    first, second = (posted.events for posted in sink.posted)
    assert [{k: v for k, v in e.items() if k not in ("id", "at")} for e in first + second] == [
        {
            "request_id": "R-2",
            "column": "Status",
            "old": "Pending",
            "new": "Approved",
            "by": "ann@shop.example",
        },
        {"request_id": "R-1", "column": "Team Note", "old": "", "new": note, "by": ""},
    ]
    for event in first + second:
        assert (
            set(event) == EVENT_KEYS and ISO_UTC.match(event["at"]) and 0 < len(event["id"]) <= 64
        )
    assert queued(report) == 0


def test_edits_outside_the_watched_cells_send_nothing(sink: EventSink, script: Path) -> None:
    """Other columns, other tabs, the header row and rows without a Request ID give no event."""
    tabs = {
        "Requests": requests_tab(*rows(2), {"Status": "Pending"}),
        "Orders": requests_tab(*rows(2)),
    }
    report = run(
        script,
        tabs,
        [
            edit(2, "Email", "a@x.example", "b@x.example"),
            edit(2, "Status", "Pending", "Approved", tab="Orders"),
            edit(1, "Status", "Status", "State"),
            edit(4, "Status", "Pending", "Approved"),
            paste(1, "Team Note", [["Team Note"]]),
            {"call": "flushSheetEvents"},
        ],
    )
    assert [step["error"] for step in report["steps"]] == [None] * 6
    assert sink.posted == [] and report["fetches"] == []
    assert queued(report) == 0


def test_a_paste_gives_one_event_per_watched_cell(sink: EventSink, script: Path) -> None:
    """A paste over Notified, Team Note, Shopper Message on 3 rows: 6 events, old unknown."""
    tabs = {"Requests": requests_tab(*rows(4))}
    block = [[f"n{r}", f"note {r}", f"msg {r}"] for r in range(3)]
    report = run(
        script, tabs, [paste(2, "Notified", block), paste(1, "Status", [["Status"], ["Done"]])]
    )
    assert [step["error"] for step in report["steps"]] == [None, None]
    got = [(e["request_id"], e["column"], e["old"], e["new"]) for e in sink.events()]
    assert got == [
        ("R-1", "Team Note", "", "note 0"),
        ("R-1", "Shopper Message", "", "msg 0"),
        ("R-2", "Team Note", "", "note 1"),
        ("R-2", "Shopper Message", "", "msg 1"),
        ("R-3", "Team Note", "", "note 2"),
        ("R-3", "Shopper Message", "", "msg 2"),
        ("R-1", "Status", "", "Done"),  # the header cell of the paste is no edit
    ]
    assert len({e["id"] for e in sink.events()}) == 7


def test_a_failed_batch_is_kept_and_the_next_flush_sends_it(sink: EventSink, script: Path) -> None:
    """A 503 keeps the batch queued; the minute trigger's flush sends the same event ids."""
    sink.answers.extend([503])
    tabs = {"Requests": requests_tab(*rows(1))}
    report = run(
        script, tabs, [edit(2, "Status", "Pending", "Approved"), {"call": "flushSheetEvents"}]
    )
    assert [step["fetches"] for step in report["steps"]] == [1, 1]
    first, second = (posted.events for posted in sink.posted)
    assert first == second and len(first) == 1
    assert any("HTTP 503" in line["text"] for line in report["console"])
    assert queued(report) == 0


def test_an_unreachable_server_keeps_the_events_for_a_later_run(
    sink: EventSink, script: Path, tmp_path: Path
) -> None:
    """Events queued while the server is down survive in script properties and go out later."""
    down = tmp_path / "Down.gs"
    down.write_text(filled_script("http://127.0.0.1:9", SECRET), encoding="utf-8")
    tabs = {"Requests": requests_tab(*rows(3))}
    offline = run(
        down, tabs, [edit(2, "Status", "Pending", "Approved"), edit(3, "Team Note", "", "called")]
    )
    assert [f["error"] for f in offline["fetches"]] == ["ECONNREFUSED", "ECONNREFUSED"]
    assert queued(offline) == 1 and sink.posted == []
    later = run(script, tabs, [{"call": "flushSheetEvents"}], props=offline["props"])
    assert [(e["request_id"], e["column"]) for e in sink.events()] == [
        ("R-1", "Status"),
        ("R-2", "Team Note"),
    ]
    assert queued(later) == 0


def test_batches_hold_at_most_100_events(sink: EventSink, script: Path) -> None:
    """A paste of 250 statuses goes out as batches of 100, 100 and 50, each event once."""
    tabs = {"Requests": requests_tab(*rows(250))}
    report = run(script, tabs, [paste(2, "Status", [["Approved"]] * 250)])
    assert report["steps"][0]["error"] is None
    assert [len(posted.events) for posted in sink.posted] == [100, 100, 50]
    ids = [e["request_id"] for e in sink.events()]
    assert ids == [f"R-{n}" for n in range(1, 251)]
    assert queued(report) == 0


def test_the_queue_is_bounded_and_keeps_the_newest(sink: EventSink, script: Path) -> None:
    """With the server failing, 600 queued events become the newest 500, with a warning."""
    sink.answers.extend([503, 503])
    tabs = {"Requests": requests_tab(*rows(600))}
    report = run(
        script,
        tabs,
        [
            paste(2, "Status", [["Done"]] * 600),
            {"call": "flushSheetEvents"},
            {"call": "flushSheetEvents"},
        ],
    )
    assert [step["error"] for step in report["steps"]] == [None] * 3
    assert any("dropped the 100 oldest" in line["text"] for line in report["console"])
    delivered = [e["request_id"] for posted in sink.posted[2:] for e in posted.events]
    assert delivered == [f"R-{n}" for n in range(101, 601)]
    assert [len(posted.events) for posted in sink.posted] == [100, 100] + [100] * 5
    assert sorted(report["props"]) == ["sheetqueue.queue.n"]  # no stale chunk, no flush claim


def test_long_values_fit_the_property_store(sink: EventSink, script: Path) -> None:
    """Long non-ASCII messages are cut to 2000 characters, the queue stays under 500 KB and
    each body under the endpoint's 64 KiB."""
    sink.answers.extend([503])
    long_text = "é" * 3000
    tabs = {"Requests": requests_tab(*rows(300))}
    report = run(
        script,
        tabs,
        [paste(2, "Shopper Message", [[long_text]] * 300), {"call": "flushSheetEvents"}],
    )
    assert [step["error"] for step in report["steps"]] == [None, None]
    assert any("oldest event(s)" in line["text"] for line in report["console"])
    sent = [e for posted in sink.posted[1:] for e in posted.events]
    assert all(len(posted.body) <= 64 * 1024 for posted in sink.posted)
    assert sent and all(e["new"] == "é" * 2000 for e in sent)
    assert sent[-1]["request_id"] == "R-300"


def test_install_twice_makes_one_set_of_triggers(script: Path) -> None:
    """install() creates one on-edit and one every-minute trigger; again, it changes nothing."""
    tabs = {"Requests": requests_tab()}
    once = run(script, tabs, [{"call": "install"}])
    twice = run(script, tabs, [{"call": "install"}], triggers=once["triggers"])
    for report in (once, twice):
        assert report["steps"][0]["error"] is None
        kinds = sorted((t["handler"], t["type"], t.get("minutes")) for t in report["triggers"])
        assert kinds == [("flushSheetEvents", "CLOCK", 1), ("onSheetEdit", "ON_EDIT", None)]
    assert [t["id"] for t in twice["triggers"]] == [t["id"] for t in once["triggers"]]
    other = {"handler": "myReport", "type": "CLOCK", "id": "mine", "source": "CLOCK"}
    doubled = [
        *once["triggers"],
        *({**t, "id": t["id"] + "-copy"} for t in once["triggers"]),
        other,
    ]
    tidy = run(script, tabs, [{"call": "install"}], triggers=doubled)
    assert sorted(t["id"] for t in tidy["triggers"]) == sorted(
        [*(t["id"] for t in once["triggers"]), "mine"]
    )


def test_the_unfilled_script_refuses_to_install_and_posts_nothing(
    sink: EventSink, tmp_path: Path
) -> None:
    """The shipped Code.gs with its placeholders says to use the command, and sends nothing."""
    raw = tmp_path / "Code.gs"
    raw.write_text(script_text(), encoding="utf-8")
    tabs = {"Requests": requests_tab(*rows(1))}
    report = run(raw, tabs, [{"call": "install"}, edit(2, "Status", "Pending", "Done")])
    assert "sheetqueue apps-script" in (report["steps"][0]["error"] or "")
    assert report["triggers"] == [] and sink.posted == [] and queued(report) == 1


def test_the_stand_ins_catch_a_sheet_write(tmp_path: Path) -> None:
    """A script that wrote a cell would be caught: the harness records the refused method."""
    writer = tmp_path / "Writer.gs"
    writer.write_text(
        "function poke() { SpreadsheetApp.getActive().getSheetByName('Requests')"
        ".getRange(2, 1).setValue('x'); }\n",
        encoding="utf-8",
    )
    report = run_script(writer, {"Requests": requests_tab()}, [{"call": "poke"}])
    assert report["forbidden"] == ["Range.setValue"]
    assert "not allowed" in report["steps"][0]["error"]
