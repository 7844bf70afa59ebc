"""Untold alerts: the cell entries, when one is owed, who carries it and what it says."""

from __future__ import annotations

import pytest

from sheetqueue.config.settings import Settings
from sheetqueue.sheets.model import Status
from sheetqueue.worker.notice_records import NoticeRecord, NoticeState
from sheetqueue.worker.notified import parse
from sheetqueue.worker.notify.base import LogNotifier
from sheetqueue.worker.notify.team import untold_message, with_team_alerts
from sheetqueue.worker.sending import carriers, catch_up
from tests.factories import make_message, make_request

AT = "2026-11-22T09:30:00Z"
LATER = "2026-11-22T09:40:00Z"


def _record(state: NoticeState, **fields: object) -> NoticeRecord:
    values: dict[str, object] = {
        "state": state,
        "attempts": 5,
        "delivered": (),
        "maybe": (),
        "failed": (),
        "last_error": "",
        "finished_at": LATER,
    }
    values.update(fields)
    return NoticeRecord(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        f"Done not sent (gave up after 5 tries: refused); Done untold owed {LATER}",
        f"Done {AT} email maybe; Done untold owed {LATER} team sending {LATER}",
        f"Done {AT} email maybe; Done untold {LATER} team",
        "Done not sent (no address to send to); Done untold not sent (no address to send to)",
    ],
)
def test_untold_entries_round_trip_and_stay_apart_from_the_shopper_notice(text: str) -> None:
    """An ``untold`` entry parses back to the same text and is not the status's own notice."""
    cell = parse(text)
    assert cell.render() == text
    [notice, untold] = cell.entries
    assert untold.untold and not notice.untold and untold.status == "Done untold"
    assert cell.notice(Status.DONE) == notice and cell.entry_for("Done untold") == untold
    assert cell.seen_closed is Status.DONE and untold.gave_up_sentence == ""


@pytest.mark.parametrize(
    ("text", "untold"),
    [
        ("Done not sent (gave up after 5 tries: refused)", True),
        (f"Done {AT} email maybe", True),
        (f"Done {AT} email gave up", True),
        (f"Done {AT} webhook maybe, email gave up", True),
        ("Done not sent (no address to send to)", False),
        (f"Done {AT} email", False),
        (f"Done {AT} email, webhook gave up", False),
        (f"Needs Review {AT} team", False),
        (f"Needs Review {AT} team gave up", False),
        (f"Needs Review {AT} team, email maybe", True),
    ],
)
def test_a_shopper_could_not_be_told_when_no_shopper_channel_surely_carried_it(
    text: str, untold: bool
) -> None:
    """Given up or maybe on every shopper channel counts; the team's own channel does not."""
    [entry] = parse(text).entries
    assert entry.could_not_tell is untold


def test_catch_up_owes_the_alert_once_and_only_with_team_alerts() -> None:
    """Settling a given-up notice owes ``Done untold``; again, or without alerts, it does not."""
    cell = parse(f"Done owed {AT} email sending {AT}")
    records = {
        ("REQ-A", "Done"): _record(
            NoticeState.GAVE_UP, failed=("smtp://mail",), last_error="refused", marked=AT
        )
    }
    caught = catch_up(cell, "REQ-A", records, untold=True)
    assert caught.render() == (
        f"Done not sent (gave up after 5 tries: refused); Done untold owed {LATER}"
    )
    assert catch_up(caught, "REQ-A", records, untold=True) == caught
    told = parse(f"Done not sent (gave up after 5 tries: refused); Done untold {LATER} team")
    assert catch_up(told, "REQ-A", records, untold=True) == told
    assert catch_up(cell, "REQ-A", records).render() == (
        "Done not sent (gave up after 5 tries: refused)"
    )


def test_catch_up_owes_no_alert_for_a_delivered_notice() -> None:
    """A notice the email carried settles as told, with nothing owed to the team."""
    cell = parse(f"Done owed {AT}")
    records = {("REQ-A", "Done"): _record(NoticeState.SENT, delivered=("smtp://mail",))}
    assert catch_up(cell, "REQ-A", records, untold=True).render() == f"Done {LATER} email"


def test_only_team_notifiers_carry_an_untold_alert() -> None:
    """The shopper's notifiers never get the alert; the team's take it whatever the status."""
    settings = Settings(notify=["log:"], team_alerts=["log:"])
    shopper, team = with_team_alerts([LogNotifier()], settings)
    alert = untold_message(
        make_request(status="Done"), Status.DONE, ["email"], "maybe", mail_from="help@x.example"
    )
    assert carriers([shopper, team], alert) == [team]
    assert team.skip_reason(alert) is None
    plain = make_message(status=Status.DONE)
    assert carriers([shopper, team], plain) == [shopper, team]
    assert team.skip_reason(plain) is not None


def test_the_untold_alert_is_short_plain_and_masked_with_its_own_message_id() -> None:
    """ID, type, notice, channel and outcome in one line; address masked; its own Message-ID."""
    request = make_request(status="Done", phone="+15125550100")
    alert = untold_message(
        request, Status.DONE, ["email"], "gave up after 5 tries", mail_from="help@x.example"
    )
    assert alert.text == (
        "REQ-TEST0000000000001 shopper not told: return; the Done notice by email gave up "
        "after 5 tries; shopper a***@e***.com, ***00."
    )
    assert "\n" not in alert.text and len(alert.text) < 200
    assert alert.notice_word == "Done untold"
    assert alert.message_id.endswith("-done-untold@x.example>")
    maybe = untold_message(request, Status.DONE, ["email"], "maybe", mail_from="help@x.example")
    assert "email may not have arrived (no answer)" in maybe.text
