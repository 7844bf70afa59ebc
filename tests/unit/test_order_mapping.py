"""The order mapping: shops' names, the status table, addresses, and refusals that say why."""

from __future__ import annotations

from pathlib import Path

import pytest

from sheetqueue.config.errors import ConfigError, InputError
from sheetqueue.config.loading import load_settings
from sheetqueue.sheets.order_addresses import city_and_postal_code
from sheetqueue.sheets.order_mapping import OrderMapping, mapping_of
from sheetqueue.sheets.orders import OrderStatus, order_from_record

BASE = {"order_id": "ORD-1", "email": "a@example.com", "order_date": "2026-11-01"}


def test_an_unknown_status_is_refused_with_the_accepted_words() -> None:
    """A status word nobody mapped is an error naming the order, the field and the choices."""
    with pytest.raises(InputError) as caught:
        order_from_record({**BASE, "status": "lost in space"})
    assert str(caught.value).startswith("order ORD-1: status: 'lost in space' is not a known")
    assert "[orders.statuses]" in str(caught.value)


def test_the_status_table_maps_a_shops_own_words() -> None:
    """[orders.statuses] turns a shop's word into a status; built-in words still work."""
    mapping = OrderMapping.from_config(statuses={"Awaiting Pickup": "shipped"})
    order = order_from_record({**BASE, "status": "awaiting pickup"}, mapping=mapping)
    assert order.status is OrderStatus.SHIPPED
    assert order_from_record({**BASE, "status": "On-Hold"}).status is OrderStatus.PROCESSING


def test_a_missing_status_is_taken_only_from_what_the_order_proves() -> None:
    """No status: a delivery date makes it delivered; nothing at all is refused."""
    order = order_from_record({**BASE, "delivered_at": "2026-11-05"})
    assert order.status is OrderStatus.DELIVERED
    with pytest.raises(InputError, match="status: missing"):
        order_from_record(BASE)


def test_a_missing_email_says_where_it_was_looked_for() -> None:
    """The refusal names the field and the names it is read from."""
    with pytest.raises(InputError) as caught:
        order_from_record({"order_id": "ORD-9", "status": "shipped"})
    assert "order ORD-9: email: missing; expected the shopper's email" in str(caught.value)


def test_config_columns_are_read_before_the_built_in_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """[orders.fields] in the TOML file names a shop's columns; [orders] source still works."""
    config = tmp_path / "sheetqueue.toml"
    config.write_text(
        '[orders]\nsource = "file:orders.csv"\n'
        '[orders.fields]\nemail = "Buyer Mail"\norder_id = ["Ref", "Reference"]\n'
        '[orders.statuses]\nsent = "shipped"\n'
    )
    monkeypatch.setenv("SHEETQUEUE_CONFIG", str(config))
    settings = load_settings()
    assert settings.orders == "file:orders.csv"
    mapping = mapping_of(settings)
    order = order_from_record(
        {
            "Reference": "R-7",
            "Buyer Mail": "b@example.com",
            "email": "x@example.com",
            "status": "Sent",
        },
        mapping=mapping,
    )
    assert (order.order_id, order.email, order.status) == ("R-7", "b@example.com", "shipped")


def test_a_bad_mapping_is_bad_configuration() -> None:
    """An unknown field or status in the mapping is a ConfigError naming the table."""
    with pytest.raises(ConfigError, match=r"\[orders.fields\] mail: not an order field"):
        OrderMapping.from_config(fields={"mail": "E-mail"})
    with pytest.raises(ConfigError, match=r"\[orders.statuses\] 'sent': 'gone' is not a status"):
        OrderMapping.from_config(statuses={"sent": "gone"})


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("123 Main St, Austin, TX 78701", ("Austin", "78701")),
        ("10 Downing St, London SW1A 2AA", ("London", "SW1A 2AA")),
        ("Hauptstr. 5, 10115 Berlin, Germany", ("Berlin", "10115")),
        ("Damrak 1, 1012 LG Amsterdam", ("Amsterdam", "1012 LG")),
    ],
)
def test_a_one_line_address_gives_city_and_postal_code(
    address: str, expected: tuple[str, str]
) -> None:
    """Free text yields the city and postal code, never the street."""
    assert city_and_postal_code(address) == expected


def test_a_structured_address_gives_city_and_postal_code_only() -> None:
    """An address object is read by its parts; the street is not kept anywhere."""
    order = order_from_record(
        {
            **BASE,
            "status": "shipped",
            "shipping_address": {"address1": "1 Rue X", "city": "Paris", "postcode": "75001"},
        }
    )
    assert (order.city, order.postal_code, order.shipping_address) == ("Paris", "75001", "")
    assert "Rue" not in order.model_dump_json()


def test_the_date_columns_are_the_mapped_and_usual_names_of_the_date_fields() -> None:
    """[orders.fields] names of date fields are date columns; other mapped names are not."""
    mapping = OrderMapping.from_config(
        {"delivered_at": "Zugestellt am", "shipped_at": ["Versand", "Sent"], "email": "Mail"}
    )
    columns = mapping.date_columns()
    assert {"zugestelltam", "versand", "sent", "deliveredat", "createdat"} <= columns
    assert "mail" not in columns and "email" not in columns
    assert OrderMapping().date_columns() < columns
