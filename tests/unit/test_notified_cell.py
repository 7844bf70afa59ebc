"""The Notified cell format: every form the worker writes reads back and renders unchanged."""

from __future__ import annotations

import pytest

from sheetqueue.sheets.model import Status
from sheetqueue.worker import notified
from sheetqueue.worker.notice_records import NoticeState


@pytest.mark.parametrize(
    "text",
    [
        "seen Pending 2026-11-22T09:30:00Z",
        "adopted Done 2026-11-22T09:30:00Z",
        "Done owed 2026-11-22T09:30:00Z",
        "Done owed 2026-11-22T09:30:00Z email",
        "Done owed 2026-11-22T09:30:00Z email sending 2026-11-22T09:31:05Z",
        "Done owed 2026-11-22T09:30:00Z email, webhook sending 2026-11-22T09:31:05Z",
        "Done owed 2026-11-22T09:30:00Z webhook maybe, email sending 2026-11-22T09:31:05Z",
        "Ineligible 2026-11-22T09:30:00Z email",
        "Done 2026-11-22T09:30:00Z webhook maybe",
        "Done 2026-11-22T09:30:00Z email, webhook gave up",
        "Done not sent (no address to send to)",
        "Needs Review not sent (gave up after 5 tries: connection refused)",
        "seen Needs Review 2026-11-22T09:30:00Z; Done 2026-11-23T10:00:00Z email",
        "Ineligible 2026-11-22T09:30:00Z; Done 2026-11-23T10:00:00Z",
        "called her on Monday; adopted Rejected 2026-11-22T09:30:00Z",
    ],
)
def test_every_form_round_trips(text: str) -> None:
    """Parsing then rendering gives the same text, so an unchanged cell is never rewritten."""
    assert notified.parse(text).render() == text


def test_the_cell_says_what_was_seen_and_told() -> None:
    """Entries answer: seen before? told about Done? seen closed? which channel?"""
    cell = notified.parse("seen Pending 2026-11-22T09:30:00Z; Done 2026-11-23T10:00:00Z email")
    assert cell.seen_by_worker
    done = cell.notice(Status.DONE)
    assert done is not None and done.kind == "told" and done.carried == ("email",)
    assert cell.notice(Status.REJECTED) is None
    assert cell.seen_closed == Status.DONE
    assert not notified.parse("").seen_by_worker
    assert not notified.parse("phoned the shopper").seen_by_worker


def test_a_notice_that_gave_up_gives_one_stable_sentence() -> None:
    """The Worker Note sentence comes from the cell alone, the same on every pass and host."""
    cell = notified.parse("Done not sent (gave up after 2 tries: connection refused)")
    assert cell.gave_up_sentence() == (
        "Could not tell the shopper about Done after 2 tries (connection refused); "
        "please contact them another way."
    )


def test_finished_entries_name_channels_not_servers() -> None:
    """Ledger outcomes become channel words; a reason cannot break the cell's format."""
    entry = notified.finished_entry(
        "Done",
        state=NoticeState.GAVE_UP,
        when="2026-11-22T09:30:00Z",
        carried=[],
        maybe=[],
        failed=["smtp://mx:25"],
        attempts=3,
        last_error="smtp://mx:25: refused; (really)",
    )
    assert (
        entry.render() == "Done not sent (gave up after 3 tries: smtp://mx:25: refused, [really])"
    )
    sent = notified.finished_entry(
        "Done",
        state=NoticeState.SENT,
        when="2026-11-22T09:30:00Z",
        carried=["smtp://mx:25", "maildir:/tmp/out"],
        maybe=["webhook:https://hooks.example/x"],
        failed=[],
        attempts=1,
        last_error="",
    )
    assert sent.render() == "Done 2026-11-22T09:30:00Z email, webhook maybe"


def test_a_sending_mark_reads_back_and_turns_into_maybe() -> None:
    """``email sending`` is an owed entry in flight; a mark no record explains becomes maybe."""
    owed = notified.parse("Done owed 2026-11-22T09:30:00Z").notice(Status.DONE)
    assert owed is not None
    marked = notified.sending_entry(owed, ["email", "webhook"], "2026-11-22T09:31:05Z")
    assert marked.render() == (
        "Done owed 2026-11-22T09:30:00Z "
        "email sending 2026-11-22T09:31:05Z, webhook sending 2026-11-22T09:31:05Z"
    )
    again = notified.parse(marked.render()).notice(Status.DONE)
    assert again == marked and again.kind == "owed" and again.sending == ("email", "webhook")
    assert again.sending_at == "2026-11-22T09:31:05Z"
    maybe = notified.foreign_sending(again)
    assert maybe.render() == "Done owed 2026-11-22T09:30:00Z email maybe, webhook maybe"


def test_sending_on_a_told_entry_is_a_persons_text() -> None:
    """Only an owed entry can be in flight; anything else with ``sending`` is kept as typed."""
    for text in (
        "Done 2026-11-22T09:30:00Z email sending 2026-11-22T09:31:05Z",
        "Done owed 2026-11-22T09:30:00Z email sending",
        "Done owed 2026-11-22T09:30:00Z email sending 2026-11-22T09:31:05Z, "
        "webhook sending 2026-11-22T09:32:00Z",
    ):
        cell = notified.parse(text)
        assert [entry.kind for entry in cell.entries] == ["other"], text
        assert cell.render() == text


def test_a_cell_holds_an_undelivered_notice_only_if_it_has_a_failure_word() -> None:
    """Given up, maybe and not sent entries are caught by the words; settled ones are not."""
    when = "2026-11-22T09:30:00Z"
    failing = [
        notified.Entry("told", "Done", when, carried=("email",), gave_up=("webhook",)),
        notified.Entry("told", "Done", when, maybe=("webhook",)),
        notified.Entry("not_sent", "Rejected", reason="no address to send to"),
        notified.Entry("not_sent", "Done", reason="gave up after 5 tries: 550"),
    ]
    settled = [
        notified.Entry("told", "Done", when, carried=("email",)),
        notified.Entry("owed", "Done", when, sending=("email",), sending_at=when),
        notified.Entry("adopted", "Done", when),
        notified.Entry("seen", "Pending", when),
    ]
    assert all(notified.may_tell_of_failure(entry.render()) for entry in failing)
    assert not any(notified.may_tell_of_failure(entry.render()) for entry in settled)
