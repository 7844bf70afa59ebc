"""Templates and messages: the words each outcome gets, escaping, overrides, Message-IDs."""

from __future__ import annotations

from pathlib import Path

import pytest

from sheetqueue.config.policy import Policy
from sheetqueue.sheets.model import Request, RequestType, Status
from sheetqueue.worker.notify import Notice, Templates, build_message, message_id_for
from sheetqueue.worker.notify.templates import template_chain
from tests.factories import make_notice

TOLD = (Status.PENDING, Status.NEEDS_REVIEW, Status.INELIGIBLE, Status.DONE, Status.REJECTED)


@pytest.mark.parametrize("status", [Status.INELIGIBLE, Status.DONE, Status.REJECTED])
def test_each_type_has_its_own_words_for_outcomes(status: Status) -> None:
    """Ineligible, Done and Rejected read differently for every request type."""
    texts = {
        kind: build_message(make_notice(request_type=kind, status=status)).text
        for kind in RequestType
        if not (
            status is Status.INELIGIBLE and kind in (RequestType.UNSUBSCRIBE, RequestType.SUPPORT)
        )
    }
    assert len(set(texts.values())) == len(texts)


def test_every_told_status_and_type_renders_without_leftover_placeholders() -> None:
    """Every (status, type) the shopper may hear about renders fully, subject included."""
    for status in TOLD:
        for kind in RequestType:
            message = build_message(make_notice(request_type=kind, status=status))
            assert "$" not in message.text + message.subject + message.html
            assert message.subject and "Tidy Threads" in message.text


def test_done_refund_names_the_processing_days_from_the_policy() -> None:
    """A finished refund tells the shopper when the money arrives, from the policy."""
    message = build_message(make_notice(), policy=Policy(refund_processing_days="3-5"))
    assert message.subject == "Your refund for order ORD-1001 is on its way"
    assert "within 3-5 business days" in message.text


def test_ineligible_cancellation_because_shipped_offers_a_return() -> None:
    """A cancellation refused because the order shipped points to the return path."""
    notice = make_notice(
        request_type=RequestType.CANCELLATION,
        status=Status.INELIGIBLE,
        decision_code="alreadyShipped",
        message="Your order left our warehouse on 3 November.",
    )
    message = build_message(notice)
    assert "you can still return it" in message.text
    assert "Your order left our warehouse on 3 November." in message.text


def test_chain_goes_from_code_to_type_to_status_to_default() -> None:
    """Templates are looked up most specific first, ending at default."""
    notice = make_notice(status=Status.INELIGIBLE, decision_code="notDelivered")
    assert template_chain(notice) == [
        "ineligible.refund.notDelivered",
        "ineligible.refund",
        "ineligible",
        "default",
    ]
    assert template_chain(make_notice(request_type=None)) == ["done", "default"]


def test_unsafe_decision_code_is_not_used_as_a_file_name() -> None:
    """A Decision cell such as ``../x`` never becomes part of a template path."""
    notice = make_notice(decision_code="../../etc/passwd")
    assert template_chain(notice) == ["done.refund", "done", "default"]


def test_team_message_is_shown_and_optional_lines_vanish_when_empty() -> None:
    """The team's Shopper Message appears; empty optional lines leave no trace."""
    with_note = build_message(
        make_notice(status=Status.REJECTED, shopper_message="The item was worn.")
    )
    without = build_message(make_notice(status=Status.REJECTED))
    assert "A note from our team: The item was worn." in with_note.text
    assert "A note from our team" not in without.text
    assert "\n\n\n" not in without.text


def test_shopper_text_is_escaped_in_html_and_not_interpreted() -> None:
    """A shopper's <script> or $placeholder stays inert text in both variants."""
    notice = make_notice(
        status=Status.REJECTED,
        order_id="<script>alert(1)</script>",
        shopper_message="Costs $store_name {0} ${request_id}",
    )
    message = build_message(notice)
    assert "<script>" not in message.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in message.html
    assert "Costs $store_name {0} ${request_id}" in message.text


def test_user_template_dir_overrides_the_packaged_one(tmp_path: Path) -> None:
    """A file with the same name in templates_dir wins, HTML variant included."""
    (tmp_path / "done.refund.txt").write_text(
        "Subject: Money back for $order_ref\n\nRefunded, $store_name.\n$team_message\n"
    )
    (tmp_path / "done.refund.html").write_text("<b>$store_name</b> $order_id\n")
    notice = make_notice(store_name="A&B", order_id="<1>")
    message = build_message(notice, templates=Templates(tmp_path))
    assert message.subject == "Money back for order <1>"
    assert message.text == "Refunded, A&B.\n"
    assert message.html == "<b>A&amp;B</b> &lt;1&gt;\n"
    other = build_message(make_notice(status=Status.REJECTED), templates=Templates(tmp_path))
    assert "could not approve it" in other.text


def test_same_notice_gives_the_same_message_id() -> None:
    """A message rebuilt after a crash carries the same Message-ID and idempotency key."""
    first = build_message(make_notice(), mail_from="Tidy Threads <help@tidy.example>")
    again = build_message(make_notice(), mail_from="help@tidy.example")
    assert first.message_id == again.message_id == "<sq-REQ-7K2M-done@tidy.example>"
    assert first.idempotency_key == "sq-REQ-7K2M-done@tidy.example"
    other = message_id_for("REQ-7K2M", Status.NEEDS_REVIEW, "help@tidy.example")
    assert other == "<sq-REQ-7K2M-needs-review@tidy.example>"


def test_notice_from_request_takes_the_row_cells() -> None:
    """A queue row gives the notice its ids, contacts, team message and decision code."""
    row = Request(
        request_id="REQ-1",
        type="Address Change",
        order_id=" ORD-9 ",
        email="bo@example.com",
        decision="ineligible:alreadyShipped",
        shopper_message="Sorry!",
    )
    notice = Notice.from_request(row, Status.INELIGIBLE, store_name="Shop")
    assert notice.request_type is RequestType.ADDRESS_CHANGE
    assert (notice.order_id, notice.decision_code, notice.shopper_message) == (
        "ORD-9",
        "alreadyShipped",
        "Sorry!",
    )
