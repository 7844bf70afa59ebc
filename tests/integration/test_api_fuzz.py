"""Property-based fuzzing of every route, built from the app's own OpenAPI document: no 5xx.

A small generator turns the JSON schemas of ``/openapi.json`` into Hypothesis
strategies (objects, strings with their lengths, numbers, booleans, arrays,
unions, enums, nulls, ``$ref``); one in four bodies is arbitrary JSON instead,
so both well-shaped and nonsense input reach every route.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api_kit import Api, serve_whole_app

_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


_SCALARS: dict[str, Any] = {
    "integer": st.integers(),
    "number": st.floats(allow_nan=False, allow_infinity=False) | st.integers(),
    "boolean": st.booleans(),
    "null": st.none(),
}


def from_schema(schema: dict[str, Any], document: dict[str, Any], depth: int = 0) -> Any:
    """A Hypothesis strategy for values of ``schema`` (mostly valid, sometimes not)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return from_schema(document["components"]["schemas"][name], document, depth)
    for union in ("anyOf", "oneOf"):
        if union in schema:
            return st.one_of([from_schema(option, document, depth) for option in schema[union]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "const" in schema:
        return st.just(schema["const"])
    kind = schema.get("type")
    if kind == "string":
        examples = st.sampled_from(["ORD-1001", "ana@example.com", "return", "refund", "c-1"])
        longest = min(schema.get("maxLength", 80), 80)
        return examples | st.text(min_size=schema.get("minLength", 0), max_size=longest)
    if kind in _SCALARS:
        return _SCALARS[kind]
    if kind == "array":
        return st.lists(from_schema(schema.get("items", {}), document, depth + 1), max_size=3)
    if kind == "object" or "properties" in schema:
        return _object(schema, document, depth)
    return _JSON


def _object(schema: dict[str, Any], document: dict[str, Any], depth: int) -> Any:
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    if depth > 2 or not properties:
        return st.dictionaries(st.text(max_size=10), _JSON, max_size=4)
    fields = {name: from_schema(sub, document, depth + 1) for name, sub in properties.items()}
    must = st.fixed_dictionaries({k: v for k, v in fields.items() if k in required})
    may = st.fixed_dictionaries({}, optional={k: v for k, v in fields.items() if k not in required})
    return st.builds(lambda a, b: a | b, must, may)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    folder: Path = tmp_path_factory.mktemp("fuzz")
    with serve_whole_app(folder, lookup_rate_per_minute=10_000) as running:
        yield running


@pytest.fixture(scope="module")
def document(api: Api) -> dict[str, Any]:
    answer = api.get("/openapi.json")
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


OPERATIONS = [
    ("post", "/v1/requests"),
    ("get", "/v1/requests/{request_id}"),
    ("post", "/v1/orders/lookup"),
    ("post", "/v1/eligibility"),
    ("post", "/v1/returns/initialise"),
    ("post", "/v1/handoff"),
    ("post", "/v1/retention/offer"),
    ("post", "/actions/{name}"),
    ("post", "/v1/sheet-events"),
    ("get", "/healthz"),
    ("get", "/metrics"),
    ("get", "/readyz"),
]


def test_every_route_is_fuzzed(document: dict[str, Any]) -> None:
    """The list of fuzzed operations is every operation the OpenAPI document declares."""
    declared = {(m, p) for p, item in document["paths"].items() for m in item}
    assert declared == set(OPERATIONS)


def _call(api: Api, method: str, path: str, data: dict[str, Any]) -> int:
    url_path = path
    for name, value in data["path"].items():
        url_path = url_path.replace("{" + name + "}", value)
    response = api.session.request(
        method,
        api.url + url_path,
        params=data["query"],
        headers=data["headers"],
        json=data["body"] if method == "post" else None,
        timeout=10,
    )
    return response.status_code


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_no_input_gives_a_5xx(api: Api, document: dict[str, Any], method: str, path: str) -> None:
    """Any body, query, header or path value the schema allows (or not) is answered below 500."""
    operation = document["paths"][path][method]
    places: dict[str, dict[str, Any]] = {"path": {}, "query": {}, "header": {}}
    safe_text = st.text(st.characters(codec="ascii", exclude_categories=["Cc"]), max_size=70)
    for parameter in operation.get("parameters", []):
        where = parameter["in"]
        value = st.text(
            st.characters(exclude_characters="/?#%", exclude_categories=["Cs"]),
            min_size=1,
            max_size=70,
        )
        if where == "header":  # HTTP drops a header value's outer spaces: send none
            value = safe_text.map(str.strip)
        strategy = st.one_of(value, st.sampled_from(parameter["schema"].get("examples", ["x"])))
        if parameter.get("required"):
            places[where][parameter["name"]] = strategy
        else:
            places[where][parameter["name"]] = st.none() | strategy
    body_schema = (
        operation.get("requestBody", {})
        .get("content", {})
        .get("application/json", {})
        .get("schema")
    )
    body = st.none() if body_schema is None else from_schema(body_schema, document) | _JSON
    inputs = st.fixed_dictionaries(
        {
            "path": st.fixed_dictionaries(places["path"]),
            "query": st.fixed_dictionaries(places["query"]),
            "headers": st.fixed_dictionaries(places["header"]),
            "body": body,
        }
    )

    @settings(
        max_examples=40,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(inputs)
    def run(data: dict[str, Any]) -> None:
        data["query"] = {k: v for k, v in data["query"].items() if v is not None}
        data["headers"] = {k: v for k, v in data["headers"].items() if v is not None}
        assert _call(api, method, path, data) < 500, data

    run()
