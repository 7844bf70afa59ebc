"""The HTTP API of many shops: each shop's own API under ``/shops/<name>/v1/...``.

Two local shops from one shops file, built by the composition root and
served by a real uvicorn server on 127.0.0.1.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from sheetqueue.bootstrap import build_shops_api
from sheetqueue.config.shops import load_shops
from sheetqueue.sheets.model import Request
from sheetqueue.sheets.sqlite_store import SqliteStore
from tests.api_kit import NOW, TOKEN, Api, make_settings, serve
from tests.factories import make_order_record
from tests.sheet_events_kit import SECRET, batch, event, signed_headers

NORTH_TOKEN = "north-token-5d2a"


def _shops_file(folder: Path) -> Path:
    """north with its own token; corner falls back to the base token."""
    for shop in ("north", "corner"):
        order = make_order_record(order_id=f"{shop.upper()}-1", email=f"a@{shop}.example")
        (folder / f"{shop}-orders.json").write_text(json.dumps([order]))
    path = folder / "shops.toml"
    path.write_text(
        "[[shop]]\n"
        'name = "north"\n'
        'local_path = "north.db"\n'
        'orders = "file:north-orders.json"\n'
        f'api_token = "{NORTH_TOKEN}"\n'
        f'sheet_events_secret = "{SECRET}"\n'
        "\n"
        "[[shop]]\n"
        'name = "corner"\n'
        'local_path = "corner.db"\n'
        'orders = "file:corner-orders.json"\n'
    )
    return path


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    shops = load_shops(_shops_file(tmp_path), make_settings(tmp_path))
    with serve(build_shops_api(shops, clock=lambda: NOW, flush_interval=0.01), token="") as served:
        yield served


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _record(api: Api, shop: str, token: str, key: str = "") -> requests.Response:
    body = {"type": "cancellation", "order_id": f"{shop.upper()}-1", "email": f"a@{shop}.example"}
    headers = _auth(token) | ({"Idempotency-Key": key} if key else {})
    return api.post(f"/shops/{shop}/v1/requests", body, headers=headers)


def _rows(path: Path, count: int) -> list[Request]:
    """The queue's rows once ``count`` have landed (the outbox appends them)."""
    deadline = time.monotonic() + 10
    while True:
        store = SqliteStore(path)
        try:
            rows = [stored.request for stored in store.read_requests()]
        finally:
            store.close()
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.02)


def test_a_request_to_north_lands_in_norths_queue_only(api: Api, tmp_path: Path) -> None:
    """POST /shops/north/v1/requests adds a row to north's queue and none to corner's."""
    posted = _record(api, "north", NORTH_TOKEN)
    assert posted.status_code == 201, posted.text
    request_id = posted.json()["request_id"]
    assert [row.request_id for row in _rows(tmp_path / "north.db", 1)] == [request_id]
    corner_posted = _record(api, "corner", TOKEN)
    assert corner_posted.status_code == 201
    corner_rows = _rows(tmp_path / "corner.db", 1)
    assert [row.request_id for row in corner_rows] == [corner_posted.json()["request_id"]]
    assert len(_rows(tmp_path / "north.db", 1)) == 1
    status = api.get(
        f"/shops/north/v1/requests/{request_id}",
        params={"email": "a@north.example"},
        headers=_auth(NORTH_TOKEN),
    )
    assert status.status_code == 200
    missing = api.get(
        f"/shops/corner/v1/requests/{request_id}",
        params={"email": "a@north.example"},
        headers=_auth(TOKEN),
    )
    assert missing.status_code == 404  # north's request is not corner's


def test_tokens_are_per_shop(api: Api) -> None:
    """north's token opens north only; corner takes the base token, which north refuses."""
    assert _record(api, "corner", NORTH_TOKEN).status_code == 401
    assert _record(api, "north", TOKEN).status_code == 401
    assert _record(api, "north", "").status_code == 401
    assert _record(api, "north", NORTH_TOKEN).status_code == 201
    assert api.get("/shops/north/healthz").status_code == 200  # open, as /healthz is


def test_idempotency_keys_are_per_shop(api: Api) -> None:
    """The same key twice in north is one request; the same key in corner is corner's own."""
    first = _record(api, "north", NORTH_TOKEN, key="chat-7")
    again = _record(api, "north", NORTH_TOKEN, key="chat-7")
    corner = _record(api, "corner", TOKEN, key="chat-7")
    assert (first.status_code, again.status_code, corner.status_code) == (201, 200, 201)
    assert again.json()["request_id"] == first.json()["request_id"]
    assert corner.json()["request_id"] != first.json()["request_id"]


def test_an_unknown_shop_is_404_with_the_error_body(api: Api) -> None:
    """/shops/south/... is 404 {"error": ...} for any token; /v1/... is not served with shops."""
    for token in (NORTH_TOKEN, ""):
        answer = _record(api, "south", token)
        assert answer.status_code == 404
        assert answer.json() == {"error": "Unknown shop."}
    assert api.post("/v1/requests", {}, headers=_auth(TOKEN)).status_code == 404


def test_readiness_names_every_shop(api: Api) -> None:
    """/readyz answers for every shop's store."""
    ready = api.get("/readyz")
    assert ready.status_code == 200
    assert set(ready.json()["shops"]) == {"north", "corner"}


def test_openapi_documents_the_shop_routes(api: Api) -> None:
    """/openapi.json lists /shops/{shop}/v1/... with the shop names, and the same schemas."""
    document = api.get("/openapi.json").json()
    operation = document["paths"]["/shops/{shop}/v1/requests"]["post"]
    shop = operation["parameters"][0]
    assert (shop["name"], shop["in"], shop["schema"]["enum"]) == (
        "shop",
        "path",
        ["north", "corner"],
    )
    assert "404" in operation["responses"]
    assert "RecordBody" in document["components"]["schemas"]
    assert "/v1/requests" not in document["paths"]
    assert document["paths"]["/readyz"]["get"]["security"] == []


def test_sheet_events_are_signed_with_the_shops_own_secret(api: Api) -> None:
    """A signed batch to north's sheet-events needs no bearer token; corner has no secret."""
    body = batch([event("REQ-UNKNOWN0000001", "Done")], NOW)
    headers = signed_headers(body, int(NOW.timestamp()))
    north = requests.post(
        api.url + "/shops/north/v1/sheet-events", data=body, headers=headers, timeout=10
    )
    assert north.status_code == 202, north.text
    corner = requests.post(
        api.url + "/shops/corner/v1/sheet-events", data=body, headers=headers, timeout=10
    )
    assert corner.status_code != 202
