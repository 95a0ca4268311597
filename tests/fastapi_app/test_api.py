"""The JSON API: items CRUD, validation errors (same details as the Flask twin), 415/404/405,
the upstream call and the CPU endpoint."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError
from starlette.testclient import TestClient

from twinbench.apps.common.cpu import cpu_work
from twinbench.apps.common.errors import validation_details
from twinbench.apps.common.models import ItemIn, ListParams
from twinbench.apps.common.settings import AppConfig
from twinbench.apps.fastapi_app import create_app

from .helpers import UPSTREAM_FAIL_MS, UPSTREAM_NOT_JSON_MS, assert_error, make_config

JSON = {"content-type": "application/json"}


def _create(client: TestClient, **fields: Any) -> dict[str, Any]:
    response = client.post("/api/items", json=fields)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_crud_cycle(client: TestClient) -> None:
    created = _create(client, name="widget", price=9.5, tags=["a", "b"])
    assert created == {"id": created["id"], "name": "widget", "price": 9.5, "tags": ["a", "b"]}
    assert isinstance(created["id"], int) and created["id"] >= 1
    url = f"/api/items/{created['id']}"

    assert client.get(url).json() == created

    replaced = client.put(url, json={"name": "gadget", "price": 0})
    assert replaced.status_code == 200
    # Full replacement: omitted tags fall back to the default [].
    assert replaced.json() == {"id": created["id"], "name": "gadget", "price": 0.0, "tags": []}
    assert client.get(url).json() == replaced.json()

    deleted = client.delete(url)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert_error(client.get(url), 404, "not_found", [])
    assert_error(client.delete(url), 404, "not_found", [])
    assert_error(client.put(url, json={"name": "x", "price": 1}), 404, "not_found", [])


def test_tags_default_and_json_suffix_content_type(client: TestClient) -> None:
    response = client.post(
        "/api/items",
        content=b'{"name": "n", "price": 1}',
        headers={"content-type": "application/merge-patch+json; charset=utf-8"},
    )
    assert response.status_code == 201
    assert response.json()["tags"] == []


def test_list_pages_in_id_order(client: TestClient) -> None:
    ids = [_create(client, name=f"n{i}", price=i)["id"] for i in range(5)]
    page = client.get("/api/items").json()
    assert page["limit"] == 20 and page["offset"] == 0
    assert [item["id"] for item in page["items"]] == ids
    page = client.get("/api/items?limit=2&offset=1").json()
    assert page == {
        "items": [
            {"id": ids[1], "name": "n1", "price": 1.0, "tags": []},
            {"id": ids[2], "name": "n2", "price": 2.0, "tags": []},
        ],
        "limit": 2,
        "offset": 1,
    }
    assert client.get("/api/items?offset=2147483647").json()["items"] == []


# Bodies the Flask twin rejects with ItemIn.model_validate(json.loads(body)); we must agree.
INVALID_BODIES = [
    "null",
    "[1, 2]",
    '"text"',
    "5",
    "{}",
    '{"name": 5, "price": "x"}',
    '{"name": "", "price": -1}',
    '{"name": "a", "price": 1, "extra": true}',
    '{"name": "a", "price": NaN}',
    '{"name": "a", "price": Infinity}',
    '{"name": "a", "price": 1, "tags": "abc"}',
    '{"name": "a", "price": 1, "tags": ["ok", 3, null]}',
    json.dumps({"name": "a", "price": 1, "tags": ["t"] * 11}),
    json.dumps({"name": "a", "price": 1, "tags": ["x", "y" * 31]}),
    json.dumps({"name": "n" * 101, "price": 1}),
]


@pytest.mark.parametrize("body", INVALID_BODIES)
@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_validation_details_match_plain_model_validate(
    client: TestClient, body: str, method: str
) -> None:
    with pytest.raises(ValidationError) as exc_info:
        ItemIn.model_validate(json.loads(body))
    expected = validation_details(exc_info.value.errors())
    url = (
        "/api/items"
        if method == "POST"
        else f"/api/items/{_create(client, name='x', price=1)['id']}"
    )
    response = client.request(method, url, content=body.encode(), headers=JSON)
    assert_error(response, 422, "validation_error", expected)


@pytest.mark.parametrize(
    ("body", "details"),
    [
        (
            "[1]",
            [
                {
                    "field": "",
                    "type": "model_type",
                    "message": "Input should be a valid dictionary or instance of ItemIn",
                }
            ],
        ),
        (
            '{"name": "a", "price": 1, "tags": ["a","b","c","d","e","f","g","h","i","j","k"]}',
            [
                {
                    "field": "tags",
                    "type": "too_long",
                    "message": "List should have at most 10 items after validation, not 11",
                }
            ],
        ),
        (
            '{"price": 1, "tags": ["' + "z" * 31 + '"]}',
            [
                {"field": "name", "type": "missing", "message": "Field required"},
                {
                    "field": "tags.0",
                    "type": "string_too_long",
                    "message": "String should have at most 30 characters",
                },
            ],
        ),
        (
            '{"name": "a", "price": 1, "id": 3}',
            [
                {
                    "field": "id",
                    "type": "extra_forbidden",
                    "message": "Extra inputs are not permitted",
                }
            ],
        ),
    ],
)
def test_validation_details_literal(client: TestClient, body: str, details: list[Any]) -> None:
    response = client.post("/api/items", content=body.encode(), headers=JSON)
    assert_error(response, 422, "validation_error", details)


PRICE_TYPE = [{"field": "price", "type": "float_type", "message": "Input should be a valid number"}]


@pytest.mark.parametrize(
    "body",
    [
        '{"name": "a", "price": true}',
        '{"name": "a", "price": false}',
        '{"name": "a", "price": "3"}',
    ],
)
def test_price_is_strict(client: TestClient, body: str) -> None:
    # Lax mode took `true` as 1.0 and "3" as 3.0: a JSON API refuses the wrong type.
    response = client.post("/api/items", content=body.encode(), headers=JSON)
    assert_error(response, 422, "validation_error", PRICE_TYPE)


@pytest.mark.parametrize(("raw", "price"), [("3", 3.0), ("0", 0.0), ("2.5", 2.5), ("1e2", 100.0)])
def test_price_takes_json_ints_and_floats(client: TestClient, raw: str, price: float) -> None:
    body = '{"name": "a", "price": ' + raw + "}"
    response = client.post("/api/items", content=body.encode(), headers=JSON)
    assert response.status_code == 201, response.text
    assert response.json()["price"] == price


@pytest.mark.parametrize("body", [b"", b" ", b"{", b'{"name": }', b"\xff\xfe", b"[" * 50_000])
def test_malformed_json_is_400(client: TestClient, body: bytes) -> None:
    assert_error(client.post("/api/items", content=body, headers=JSON), 400, "malformed_json", [])


@pytest.mark.parametrize(
    "headers",
    [{}, {"content-type": "text/plain"}, {"content-type": "application/x-www-form-urlencoded"}],
)
@pytest.mark.parametrize("body", [b'{"name": "a", "price": 1}', b"{", b""])
def test_non_json_content_type_is_415(
    client: TestClient, headers: dict[str, str], body: bytes
) -> None:
    # 415 wins over the body's own problems: the content type is checked first.
    response = client.post("/api/items", content=body, headers=headers)
    assert_error(response, 415, "unsupported_media_type", [])
    item = _create(client, name="x", price=1)
    response = client.put(f"/api/items/{item['id']}", content=body, headers=headers)
    assert_error(response, 415, "unsupported_media_type", [])


# 4301+ digits: past Python's int() limit (Starlette's `int` convertor raised: a 500).
LONG_IDS = ["9" * 20, "1" + "0" * 4400, "0" * 5000 + "1" + "0" * 10, "7" * 50_000]


@pytest.mark.parametrize(
    "item_id", ["abc", "-1", "0", "99999999999", "2147483648", "1.5", "1e3", *LONG_IDS]
)
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_bad_ids_are_404(client: TestClient, item_id: str, method: str) -> None:
    kwargs: dict[str, Any] = {"json": {"name": "a", "price": 1}} if method == "PUT" else {}
    response = client.request(method, f"/api/items/{item_id}", **kwargs)
    assert_error(response, 404, "not_found", [])


def test_leading_zeros_name_the_same_item(client: TestClient) -> None:
    item = _create(client, name="x", price=1)
    padded = "0" * 5000 + str(item["id"])
    assert client.get(f"/api/items/{padded}").json() == item


@pytest.mark.parametrize("item_id", ["0", "2147483648", "1" + "0" * 4400])
def test_put_validates_the_body_before_the_id(client: TestClient, item_id: str) -> None:
    # CONTRACT.md: the body (400, then 422) before the item id (404), as in the Flask twin.
    response = client.put(f"/api/items/{item_id}", json={"name": ""})
    assert response.status_code == 422, response.text
    response = client.put(
        f"/api/items/{item_id}", content=b"{", headers={"content-type": "application/json"}
    )
    assert_error(response, 400, "malformed_json", [])


def test_largest_id_is_a_plain_miss(client: TestClient) -> None:
    assert_error(client.get("/api/items/2147483647"), 404, "not_found", [])


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("POST", "/api/items/1", "DELETE, GET, HEAD, PUT"),
        ("PATCH", "/api/items/1", "DELETE, GET, HEAD, PUT"),
        ("DELETE", "/api/items", "GET, HEAD, POST"),
        ("POST", "/api/cpu", "GET, HEAD"),
        ("PUT", "/api/upstream", "GET, HEAD"),
    ],
)
def test_wrong_method_is_405_with_full_allow(
    client: TestClient, method: str, path: str, allow: str
) -> None:
    response = client.request(method, path)
    assert_error(response, 405, "method_not_allowed", [])
    assert response.headers["allow"] == allow


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=101",
        "limit=abc",
        "limit=",
        "offset=-1",
        "offset=2147483648",
        "limit=1.5&offset=x",
        "limit=5&limit=500",  # the last value counts, in both twins
    ],
)
def test_list_query_errors(client: TestClient, query: str) -> None:
    args = dict(pair.split("=", 1) for pair in query.split("&"))  # last value wins
    with pytest.raises(ValidationError) as exc_info:
        ListParams.model_validate(args)
    expected = validation_details(exc_info.value.errors())
    assert expected and all(d["field"] in {"limit", "offset"} for d in expected)
    assert_error(client.get(f"/api/items?{query}"), 422, "validation_error", expected)


def test_cpu(client: TestClient) -> None:
    assert client.get("/api/cpu?n=1234").json() == {"n": 1234, "digest": cpu_work(1234)}
    assert client.get("/api/cpu").json() == {"n": 10_000, "digest": cpu_work(10_000)}


INT_PARSING = "Input should be a valid integer, unable to parse string as an integer"


@pytest.mark.parametrize(
    ("query", "type_", "message"),
    [
        ("n=0", "greater_than_equal", "Input should be greater than or equal to 1"),
        ("n=1000001", "less_than_equal", "Input should be less than or equal to 1000000"),
        ("n=x", "int_parsing", INT_PARSING),
    ],
)
def test_cpu_query_errors(client: TestClient, query: str, type_: str, message: str) -> None:
    details = [{"field": "n", "type": type_, "message": message}]
    assert_error(client.get(f"/api/cpu?{query}"), 422, "validation_error", details)


def test_upstream_passes_json_through(client: TestClient) -> None:
    response = client.get("/api/upstream?ms=20")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"delay_ms": 20}
    assert client.get("/api/upstream").json() == {"delay_ms": 0}


@pytest.mark.parametrize("ms", [UPSTREAM_FAIL_MS, UPSTREAM_NOT_JSON_MS])
def test_upstream_failure_is_502(client: TestClient, ms: int) -> None:
    assert_error(client.get(f"/api/upstream?ms={ms}"), 502, "upstream_error", [])


def test_upstream_unreachable_is_502(config: AppConfig) -> None:
    unreachable = make_config(config.database.url, "http://127.0.0.1:9")  # discard port
    with TestClient(create_app(unreachable)) as client:
        assert_error(client.get("/api/upstream?ms=1"), 502, "upstream_error", [])


@pytest.mark.parametrize(
    ("query", "type_"),
    [("ms=-1", "greater_than_equal"), ("ms=10001", "less_than_equal"), ("ms=a", "int_parsing")],
)
def test_upstream_query_errors(client: TestClient, query: str, type_: str) -> None:
    response = client.get(f"/api/upstream?{query}")
    assert_error(response, 422, "validation_error")
    assert [(d["field"], d["type"]) for d in response.json()["error"]["details"]] == [("ms", type_)]
