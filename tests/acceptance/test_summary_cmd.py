"""``sheetqueue summary``: the Summary table for a local queue, as text and as JSON."""

from __future__ import annotations

from pathlib import Path

from tests.cli_runner import SheetqueueCli


def test_summary_prints_the_counts_of_a_local_queue(tmp_path: Path) -> None:
    """Two recorded requests, one set Done: counted by status and type, the open one oldest."""
    cli = SheetqueueCli(tmp_path, COLUMNS="80")
    first = cli("record", "--type", "refund", "--order", "ORD-1", "--email", "a@example.com")
    second = cli("record", "--type", "return", "--order", "ORD-2", "--email", "b@example.com")
    assert first.code == 0 and second.code == 0, first.stderr + second.stderr
    listed = cli("list", "--json").json()
    done = next(row["request_id"] for row in listed if row["order_id"] == "ORD-1")
    assert cli("set-status", done, "Done").code == 0
    as_json = cli("summary", "--json")
    assert as_json.code == 0, as_json.stderr
    rows = {row[0]: row[1:] for row in as_json.json() if row}
    assert rows["Done"] == ["1"] and rows["Total"] == ["2"] and rows["refund"] == ["1", "0"]
    assert rows["Open requests"] == ["1"] and rows["Oldest open"][1] == "return"
    text = cli("summary")
    assert text.code == 0 and "Open requests" in text.stdout
    assert all(len(line) <= 80 for line in text.stdout.splitlines())
