"""Team alert notifiers: what they carry, the alert's words, and the URLs they refuse."""

from __future__ import annotations

import pytest

from sheetqueue.config.errors import ConfigError
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.model import Status
from sheetqueue.worker.notified import channel_of
from sheetqueue.worker.notify.base import LogNotifier
from sheetqueue.worker.notify.team import TeamNotifier, alert_text, with_team_alerts
from tests.factories import make_message


def test_the_alert_is_one_short_line_with_the_shopper_masked() -> None:
    """ID, type, order and reason in plain words; email and phone masked."""
    message = make_message(
        status=Status.NEEDS_REVIEW, email="ana@example.com", phone="+15125550100"
    )
    text = alert_text(message)
    assert message.request_id in text and "needs review" in text and message.order_id in text
    assert "ana@example.com" not in text and "a***@e***.com" in text
    assert "5125550100" not in text and "\n" not in text


def test_team_notifiers_carry_only_reviews_and_shoppers_skip_them_unless_asked() -> None:
    """The team channel skips other statuses; shopper notifiers skip reviews when off."""
    settings = Settings(notify=["log:"], team_alerts=["log:"])
    shopper, team = with_team_alerts([LogNotifier()], settings)
    review, done = make_message(status=Status.NEEDS_REVIEW), make_message(status=Status.DONE)
    assert channel_of(team.name) == "team" and channel_of(shopper.name) == "log"
    assert team.skip_reason(review) is None and team.skip_reason(done) is not None
    assert shopper.skip_reason(review) is not None and shopper.skip_reason(done) is None
    asked = Settings(notify=["log:"], team_alerts=["log:"], notify_on_review=True)
    shopper, _team = with_team_alerts([LogNotifier()], asked)
    assert shopper.skip_reason(review) is None


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("smtp://mail.example.com:25", "team alerts take apprise: URLs"),
        ("apprise:nothing-here", "give an Apprise URL"),
        ("apprise:nosuchservice://x", "SHEETQUEUE_TEAM_ALERTS"),
    ],
)
def test_a_team_alert_url_that_cannot_work_is_refused_by_name(url: str, says: str) -> None:
    """A URL that is not an Apprise URL (or log:) is a ConfigError naming the setting."""
    with pytest.raises(ConfigError, match="SHEETQUEUE_TEAM_ALERTS") as caught:
        TeamNotifier(url)
    assert says in str(caught.value)
