"""The retention ladder's pure rules: which ladder, which offer, what an accepted offer may be."""

from __future__ import annotations

import json

from sheetqueue.config.policy import Policy
from sheetqueue.worker.retention import choose_ladder, next_offer, retention_problem
from tests.factories import make_order

AB = Policy(retention_ladders={"A": (15, 30), "B": (10, 20, 30)})


def test_two_ladders_split_conversations_and_stay_stable() -> None:
    """Each conversation keeps its ladder; across many, both ladders are used."""
    chosen = [choose_ladder(AB, f"conv-{n}") for n in range(200)]
    assert chosen == [choose_ladder(AB, f"conv-{n}") for n in range(200)]
    assert 60 < chosen.count("A") < 140


def test_ladder_b_has_three_offers() -> None:
    """Ladder B offers 10, 20, 30 %, then nothing."""
    order = make_order(total=100.0)
    percents = [next_offer(order, AB, "B", n).percent for n in range(4)]
    assert percents == [10, 20, 30, None]


def test_an_accepted_offer_must_be_on_its_ladder() -> None:
    """30 % on A is fine; 20 % on A and an unknown ladder are named problems."""

    def details(percent: int, ladder: str) -> str:
        return json.dumps({"partial_refund": {"percent": percent}, "retention": {"ladder": ladder}})

    assert retention_problem(details(30, "A"), AB) is None
    assert "20 % is not an offer of ladder A" in (retention_problem(details(20, "A"), AB) or "")
    assert "'Z' is not a ladder (A, B)" in (retention_problem(details(15, "Z"), AB) or "")
    assert retention_problem('{"sku": "X"}', AB) is None
