"""The JSON API on SQLite: items CRUD, upstream, CPU; their bad-input answers."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from twinbench.apps.common.cpu import cpu_work


def _error(response: Any, status: int, code: str) -> list[dict[str, str]]:
    assert response.status_code == status, response.data
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    details: list[dict[str, str]] = body["error"]["details"]
    return details


def _create(client: FlaskClient, name: str = "widget", **extra: Any) -> dict[str, Any]:
    response = client.post("/api/items", json={"name": name, "price": 2.5, **extra})
    assert response.status_code == 201
    body: dict[str, Any] = response.get_json()
    return body


def test_crud_round_trip(client: FlaskClient) -> None:
    created = _create(client, tags=["a", "b"])
    assert created == {"id": created["id"], "name": "widget", "price": 2.5, "tags": ["a", "b"]}
    item_url = f"/api/items/{created['id']}"
    assert client.get(item_url).get_json() == created

    replaced = client.put(item_url, json={"name": "gadget", "price": 3})
    assert replaced.status_code == 200
    assert replaced.get_json() == {"id": created["id"], "name": "gadget", "price": 3.0, "tags": []}
    assert client.get(item_url).get_json() == replaced.get_json()

    deleted = client.delete(item_url)
    assert deleted.status_code == 204
    assert deleted.data == b""
    _error(client.get(item_url), 404, "not_found")
    _error(client.delete(item_url), 404, "not_found")
    _error(client.put(item_url, json={"name": "x", "price": 1}), 404, "not_found")


def test_list_is_ordered_and_paged(client: FlaskClient) -> None:
    ids = [_create(client, name=f"n{i}")["id"] for i in range(5)]
    page = client.get("/api/items?limit=2&offset=1").get_json()
    assert page["limit"] == 2
    assert page["offset"] == 1
    assert [item["id"] for item in page["items"]] == ids[1:3]
    default = client.get("/api/items").get_json()
    assert (default["limit"], default["offset"]) == (20, 0)
    assert [item["id"] for item in default["items"]] == ids
    assert client.get("/api/items?offset=2147483647").get_json()["items"] == []


@pytest.mark.parametrize(
    ("query", "field", "type_"),
    [
        ("limit=0", "limit", "greater_than_equal"),
        ("limit=101", "limit", "less_than_equal"),
        ("limit=x", "limit", "int_parsing"),
        ("limit=", "limit", "int_parsing"),
        ("offset=-1", "offset", "greater_than_equal"),
        ("offset=2147483648", "offset", "less_than_equal"),
    ],
)
def test_list_bad_query(client: FlaskClient, query: str, field: str, type_: str) -> None:
    details = _error(client.get(f"/api/items?{query}"), 422, "validation_error")
    assert [(d["field"], d["type"]) for d in details] == [(field, type_)]


# 4301+ digits: past Python's int() limit (werkzeug's converter then dropped the rule: PUT
# and DELETE answered 405).
LONG_IDS = ["9" * 20, "1" + "0" * 4400, "0" * 5000 + "1" + "0" * 10, "7" * 50_000]


@pytest.mark.parametrize(
    "path", ["abc", "-1", "0", "2147483648", "1.5", "\u0663", "99999", *LONG_IDS]
)
def test_unknown_ids_are_404(client: FlaskClient, path: str) -> None:
    _error(client.get(f"/api/items/{path}"), 404, "not_found")
    _error(client.put(f"/api/items/{path}", json={"name": "x", "price": 1}), 404, "not_found")
    _error(client.delete(f"/api/items/{path}"), 404, "not_found")


def test_leading_zeros_name_the_same_item(client: FlaskClient) -> None:
    item = client.post("/api/items", json={"name": "x", "price": 1}).get_json()
    padded = "0" * 5000 + str(item["id"])
    assert client.get(f"/api/items/{padded}").get_json() == item


def test_max_id_is_a_valid_but_unknown_id(client: FlaskClient) -> None:
    _error(client.get("/api/items/2147483647"), 404, "not_found")
    _error(client.put("/api/items/2147483647", json={"name": "x", "price": 1}), 404, "not_found")


def test_put_validates_the_body_before_looking_up_the_id(client: FlaskClient) -> None:
    _error(client.put("/api/items/0", json={"name": ""}), 422, "validation_error")
    _error(client.put("/api/items/" + "1" * 4400, json={"name": ""}), 422, "validation_error")
    _error(
        client.put("/api/items/0", data="x", content_type="text/plain"),
        415,
        "unsupported_media_type",
    )


def test_item_body_errors(client: FlaskClient) -> None:
    details = _error(
        client.post(
            "/api/items",
            json={"name": "x" * 101, "price": "nan", "tags": ["t" * 31] * 11, "extra": 1},
        ),
        422,
        "validation_error",
    )
    assert details == [
        {
            "field": "name",
            "type": "string_too_long",
            "message": "String should have at most 100 characters",
        },
        {"field": "price", "type": "float_type", "message": "Input should be a valid number"},
        {
            "field": "tags",
            "type": "too_long",
            "message": "List should have at most 10 items after validation, not 11",
        },
        {"field": "extra", "type": "extra_forbidden", "message": "Extra inputs are not permitted"},
    ]


def test_tag_error_location_is_dotted(client: FlaskClient) -> None:
    details = _error(
        client.post("/api/items", json={"name": "x", "price": 1, "tags": ["ok", 3]}),
        422,
        "validation_error",
    )
    assert details == [
        {"field": "tags.1", "type": "string_type", "message": "Input should be a valid string"}
    ]


@pytest.mark.parametrize("body", ["[]", "3", '"s"', "null"])
def test_non_object_body_is_422_on_the_whole_body(client: FlaskClient, body: str) -> None:
    details = _error(
        client.post("/api/items", data=body, content_type="application/json"),
        422,
        "validation_error",
    )
    assert [(d["field"], d["type"]) for d in details] == [("", "model_type")]


def test_upstream_passes_json_through(client: FlaskClient) -> None:
    response = client.get("/api/upstream?ms=3")
    assert response.status_code == 200
    assert response.get_json() == {"delayed_ms": 3}
    assert client.get("/api/upstream").get_json() == {"delayed_ms": 0}


@pytest.mark.parametrize(
    ("query", "type_"),
    [("ms=-1", "greater_than_equal"), ("ms=10001", "less_than_equal"), ("ms=a", "int_parsing")],
)
def test_upstream_bad_query(client: FlaskClient, query: str, type_: str) -> None:
    details = _error(client.get(f"/api/upstream?{query}"), 422, "validation_error")
    assert [(d["field"], d["type"]) for d in details] == [("ms", type_)]


def test_cpu(client: FlaskClient) -> None:
    assert client.get("/api/cpu?n=100").get_json() == {"n": 100, "digest": cpu_work(100)}
    assert client.get("/api/cpu").get_json() == {"n": 10_000, "digest": cpu_work(10_000)}
    details = _error(client.get("/api/cpu?n=0"), 422, "validation_error")
    assert details[0]["field"] == "n"
    _error(client.get("/api/cpu?n=1000001"), 422, "validation_error")


PRICE_TYPE = [{"field": "price", "type": "float_type", "message": "Input should be a valid number"}]


@pytest.mark.parametrize(
    "body",
    [
        b'{"name": "a", "price": true}',
        b'{"name": "a", "price": false}',
        b'{"name": "a", "price": "3"}',
    ],
)
def test_price_is_strict(client: FlaskClient, body: bytes) -> None:
    # Lax mode took `true` as 1.0 and "3" as 3.0: a JSON API refuses the wrong type.
    response = client.post("/api/items", data=body, content_type="application/json")
    assert _error(response, 422, "validation_error") == PRICE_TYPE


@pytest.mark.parametrize(("raw", "price"), [("3", 3.0), ("0", 0.0), ("2.5", 2.5), ("1e2", 100.0)])
def test_price_takes_json_ints_and_floats(client: FlaskClient, raw: str, price: float) -> None:
    body = '{"name": "a", "price": ' + raw + "}"
    response = client.post("/api/items", data=body, content_type="application/json")
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["price"] == price
