"""Schemathesis against the served app's own OpenAPI document: no check fails.

The quick run here keeps to a few examples per route; ``make chaos`` runs the
same checks with many more (the ``slow`` test below). Two of schemathesis's
checks are left out, on purpose: ``positive_data_acceptance`` and
``negative_data_rejection`` compare the server with what JSON Schema can
say, and the API checks email addresses (``email-validator``'s rules,
special-use domains) and order numbers more finely than a schema can; those
422s are covered by the API's own tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode, checks

from tests.api_kit import TOKEN, Api, serve_whole_app

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.ignored_auth,
    checks.missing_required_header,
    checks.unsupported_method,
]
_AUTH = {"Authorization": f"Bearer {TOKEN}"}
_HEALTH = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    folder: Path = tmp_path_factory.mktemp("schemathesis")
    with serve_whole_app(folder, lookup_rate_per_minute=100_000) as api:
        yield api


@pytest.fixture(scope="module")
def api_schema(served: Api) -> Any:
    return schemathesis.openapi.from_url(served.url + "/openapi.json", headers=_AUTH)


ROUTES = [
    ("POST", "/v1/requests"),
    ("GET", "/v1/requests/{request_id}"),
    ("POST", "/v1/handoff"),
    ("POST", "/v1/orders/lookup"),
    ("POST", "/v1/eligibility"),
    ("POST", "/v1/returns/initialise"),
    ("POST", "/v1/retention/offer"),
    ("POST", "/actions/{name}"),
    ("POST", "/v1/sheet-events"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
]
CASES = [
    pytest.param(method, path, mode, id=f"{method} {path} {mode.value}")
    for method, path in ROUTES
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or path not in ("/healthz", "/readyz", "/metrics")
]


def _run(api_schema: Any, method: str, path: str, mode: GenerationMode, examples: int) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, deadline=None, suppress_health_check=_HEALTH, database=None)
    def check(case: Any) -> None:
        case.call_and_validate(headers=_AUTH, checks=CHECKS)

    check()


def test_the_document_lists_every_route(api_schema: Any) -> None:
    """Every route the app serves is in its OpenAPI document, and only those."""
    listed = {
        (result.ok().method.upper(), result.ok().path) for result in api_schema.get_all_operations()
    }
    assert listed == set(ROUTES)


@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_every_route_keeps_its_documented_contract(
    api_schema: Any, method: str, path: str, mode: GenerationMode
) -> None:
    """Generated calls (valid and invalid): no 5xx, documented statuses, bodies as documented."""
    _run(api_schema, method, path, mode, examples=15)


@pytest.mark.slow
@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_every_route_keeps_its_documented_contract_at_length(
    api_schema: Any, method: str, path: str, mode: GenerationMode
) -> None:
    """The same checks with many more generated calls (make chaos)."""
    _run(api_schema, method, path, mode, examples=500)
