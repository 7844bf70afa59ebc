"""SHEETQUEUE_LOCALE: validated against the date rules' locales, and read by the same rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sheetqueue.config.date_locales import KNOWN_LOCALES, date_order
from sheetqueue.config.errors import ConfigError, InputError
from sheetqueue.config.loading import load_settings
from sheetqueue.sheets.orders import order_from_record

BASE = {"order_id": "ORD-1", "email": "a@example.com", "status": "delivered"}


def test_the_locale_defaults_to_en_us_and_is_written_the_usual_way() -> None:
    """Unset is en_US; en-gb is taken as en_GB."""
    assert load_settings().locale == "en_US"
    assert load_settings(locale="en-gb").locale == "en_GB"


def test_an_unknown_locale_is_refused_naming_the_known_ones() -> None:
    """A locale the date rules do not know is a ConfigError that lists the known ones."""
    with pytest.raises(ConfigError, match=r"SHEETQUEUE_LOCALE: unknown locale 'xx_YY'; use one of"):
        load_settings(locale="xx_YY")


def test_every_known_locale_has_a_date_order() -> None:
    """No locale is accepted whose date order the rules cannot say."""
    assert all(date_order(name) in ("MDY", "DMY", "YMD") for name in KNOWN_LOCALES)


@pytest.mark.parametrize("locale", ["en_US", "en_GB", "ja_JP"])
def test_iso_dates_read_in_every_locale(locale: str) -> None:
    """2026-04-03 and 2026-04-03T10:00:00Z read the same whatever the shop's locale."""
    order = order_from_record(
        {**BASE, "order_date": "2026-04-03", "delivered_at": "2026-04-03T10:00:00Z"},
        locale=locale,
    )
    assert order.order_date == datetime(2026, 4, 3, tzinfo=UTC)
    assert order.delivered_at == datetime(2026, 4, 3, 10, tzinfo=UTC)


def test_a_year_first_shop_refuses_a_slashed_day_first_date_saying_why() -> None:
    """13/04/2026 for a ja_JP shop is refused as not its locale's, not as 'either way round'."""
    with pytest.raises(InputError) as refused:
        order_from_record({**BASE, "delivered_at": "13/04/2026"}, locale="ja_JP")
    assert "in the shop's locale (ja_JP, year first); expected YYYY/MM/DD" in str(refused.value)
    assert "either way" not in str(refused.value)
