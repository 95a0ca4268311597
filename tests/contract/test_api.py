"""The JSON API, the upstream call, CPU work, health, and the one error shape."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from support.raw import raw_request
from support.served import Served

from twinbench.apps.common.cpu import cpu_work
from twinbench.define.targets import App, Server

ITEM = {"name": "widget", "price": 9.5, "tags": ["a", "b"]}


def assert_error(resp: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, (resp.status_code, resp.text[:300])
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], list)
    return body["error"]


def fields(err: dict[str, Any]) -> set[tuple[str, str]]:
    return {(d["field"], d["type"]) for d in err["details"]}


def test_item_lifecycle(server: Served) -> None:
    c = server.client
    created = c.post("/api/items", json=ITEM)
    assert created.status_code == 201, created.text
    item = created.json()
    assert {k: item[k] for k in ITEM} == ITEM and isinstance(item["id"], int)
    assert c.get(f"/api/items/{item['id']}").json() == item
    updated = c.put(f"/api/items/{item['id']}", json={"name": "gadget", "price": 0})
    assert updated.status_code == 200
    assert updated.json() == {"id": item["id"], "name": "gadget", "price": 0.0, "tags": []}
    assert c.get(f"/api/items/{item['id']}").json()["name"] == "gadget"
    deleted = c.delete(f"/api/items/{item['id']}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert_error(c.get(f"/api/items/{item['id']}"), 404, "not_found")
    assert_error(c.delete(f"/api/items/{item['id']}"), 404, "not_found")
    assert_error(c.put(f"/api/items/{item['id']}", json=ITEM), 404, "not_found")


def test_list_pages_in_id_order(server: Served) -> None:
    c = server.client
    ids = [c.post("/api/items", json={**ITEM, "name": f"n{i}"}).json()["id"] for i in range(5)]
    # Other tests share the database, so walk every page (bounded) rather than assume a size.
    listed: list[int] = []
    for page_no in range(200):
        page = c.get("/api/items", params={"limit": 100, "offset": page_no * 100}).json()
        assert page["limit"] == 100 and page["offset"] == page_no * 100
        listed += [i["id"] for i in page["items"]]
        if len(page["items"]) < 100:
            break
    assert listed == sorted(listed) and len(set(listed)) == len(listed)
    assert set(ids) <= set(listed)
    start = listed.index(ids[1])
    two = c.get("/api/items", params={"limit": 2, "offset": start}).json()
    assert [i["id"] for i in two["items"]] == ids[1:3]
    default = c.get("/api/items").json()
    assert default["limit"] == 20 and default["offset"] == 0 and len(default["items"]) <= 20
    assert [i["id"] for i in default["items"]] == listed[:20]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"price": 1}, {("name", "missing")}),
        ({"name": "", "price": 1}, {("name", "string_too_short")}),
        ({"name": "x" * 101, "price": 1}, {("name", "string_too_long")}),
        ({"name": "x", "price": -1}, {("price", "greater_than_equal")}),
        ({"name": "x", "price": "cheap"}, {("price", "float_type")}),
        # Strict: a JSON number only; lax mode took `true` as 1.0 and "3" as 3.0.
        ({"name": "x", "price": True}, {("price", "float_type")}),
        ({"name": "x", "price": "3"}, {("price", "float_type")}),
        ({"name": "x", "price": 1, "tags": ["t"] * 11}, {("tags", "too_long")}),
        ({"name": "x", "price": 1, "tags": ["ok", "y" * 31]}, {("tags.1", "string_too_long")}),
        ({"name": "x", "price": 1, "colour": "red"}, {("colour", "extra_forbidden")}),
        ({"name": 5, "price": 1}, {("name", "string_type")}),
        ({"name": "a\x00b", "price": 1}, {("name", "string_pattern_mismatch")}),
        ({"name": "x", "price": 1, "tags": ["\x00"]}, {("tags.0", "string_pattern_mismatch")}),
        ([1, 2], {("", "model_type")}),
    ],
)
def test_validation_errors(server: Served, body: Any, expected: set[tuple[str, str]]) -> None:
    err = assert_error(server.client.post("/api/items", json=body), 422, "validation_error")
    assert fields(err) == expected
    assert all(d["message"] for d in err["details"])


def test_non_finite_price_is_rejected(server: Served) -> None:
    resp = server.client.post(
        "/api/items",
        content=b'{"name": "x", "price": Infinity}',
        headers={"content-type": "application/json"},
    )
    # Python's json accepts Infinity; the model must still refuse it (400 if the parser does).
    assert resp.status_code in (400, 422)
    assert resp.json()["error"]["code"] in ("malformed_json", "validation_error")


DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize(
    "raw",
    [b"{", b"", b"not json", b'{"name": "x",}', DEEP],
    ids=["open", "empty", "text", "comma", "deep"],
)
def test_malformed_json_is_400(server: Served, raw: bytes) -> None:
    resp = server.client.post(
        "/api/items", content=raw, headers={"content-type": "application/json"}
    )
    assert_error(resp, 400, "malformed_json")


@pytest.mark.parametrize("ctype", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_wrong_content_type_is_415(server: Served, ctype: str | None) -> None:
    headers = {"content-type": ctype} if ctype else {}
    resp = server.client.post("/api/items", content=b'{"name": "x", "price": 1}', headers=headers)
    assert_error(resp, 415, "unsupported_media_type")


def test_json_suffix_content_type_is_accepted(server: Served) -> None:
    resp = server.client.post(
        "/api/items",
        content=b'{"name": "x", "price": 1}',
        headers={"content-type": "application/vnd.api+json; charset=utf-8"},
    )
    assert resp.status_code == 201


def test_body_over_one_mib_is_413(server: Served) -> None:
    big = b'{"name": "' + b"x" * (1024 * 1024) + b'", "price": 1}'
    resp = server.client.post(
        "/api/items", content=big, headers={"content-type": "application/json"}
    )
    assert_error(resp, 413, "payload_too_large")


def test_chunked_body_over_one_mib_is_413(server: Served) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"name": "'
        for _ in range(70):
            yield b"x" * 16384
        yield b'", "price": 1}'

    resp = server.client.post(
        "/api/items", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_error(resp, 413, "payload_too_large")


# Long ids that fit every server's request line (gunicorn refuses lines over 4094 bytes
# itself, CONTRACT.md "Answers that come from the server"): "DELETE /api/items/<4001 digits>
# HTTP/1.1" is 4028 bytes.
LONG_IDS = ["9" * 11, "9" * 20, "1" + "0" * 4000, "0" * 3990 + "1" + "0" * 10]
# Past Python's 4300-digit int() limit: this was a 500 on FastAPI, a 405 for PUT/DELETE on
# Flask. Only servers without gunicorn's request-line limit let it reach the app.
HUGE_ID = "9" * 5000
GUNICORN_REQUEST_LINE_LIMIT = 4094


def _gunicorn_parses_requests(server: Served) -> bool:
    """gunicorn parses HTTP itself for its sync, gthread and gevent workers; the uvicorn
    worker class brings uvicorn's parser."""
    return server.target.server is Server.GUNICORN and server.target.app is App.FLASK


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("item_id", ["abc", "0", "-1", "2147483648", "1.5", "%D9%A3", *LONG_IDS])
def test_bad_ids_are_404(server: Served, item_id: str, method: str) -> None:
    body = {"json": ITEM} if method == "PUT" else {}
    assert_error(server.client.request(method, f"/api/items/{item_id}", **body), 404, "not_found")


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_an_id_past_the_int_digit_limit_is_404(server: Served, method: str) -> None:
    body = {"json": ITEM} if method == "PUT" else {}
    path = f"/api/items/{HUGE_ID}"
    if _gunicorn_parses_requests(server):
        # The server's own answer, before the app: not JSON, and without the Server and
        # Date headers (the documented exception), so not through the checking client.
        resp = httpx.request(method, server.base_url + path, trust_env=False, **body)
        assert resp.status_code == 414, resp.text[:200]
        assert not resp.headers.get("content-type", "").startswith("application/json")
        return
    assert_error(server.client.request(method, path, **body), 404, "not_found")


@pytest.mark.parametrize("item_id", ["0", "2147483648", "1" + "0" * 4000])
def test_put_checks_the_body_before_the_id(server: Served, item_id: str) -> None:
    # CONTRACT.md: the body (400, then 422) before the item id (404).
    err = assert_error(
        server.client.put(f"/api/items/{item_id}", json={"name": ""}), 422, "validation_error"
    )
    assert fields(err) == {("name", "string_too_short"), ("price", "missing")}
    resp = server.client.put(
        f"/api/items/{item_id}", content=b"{", headers={"content-type": "application/json"}
    )
    assert_error(resp, 400, "malformed_json")


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"])
@pytest.mark.parametrize("path", ["/ws/echo", "/ws/broadcast"])
def test_plain_http_to_a_websocket_path_is_404(server: Served, method: str, path: str) -> None:
    resp = server.client.request(method, path)
    assert resp.status_code == 404
    if method != "HEAD":
        assert_error(resp, 404, "not_found")


MALFORMED = {
    "bad-chunk-size": b"POST /api/items HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
    b"Content-Type: application/json\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    "bad-content-length": b"POST /api/items HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n"
    b"Content-Type: application/json\r\nConnection: close\r\n\r\n{}",
    "garbage-start-line": b"GARBAGE\r\n\r\n",
    "request-line-70k": b"GET /json?x=" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: t\r\n"
    b"Connection: close\r\n\r\n",
    "header-300k": b"GET /json HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 300_000 + b"\r\n"
    b"Connection: close\r\n\r\n",
}


@pytest.mark.parametrize("raw", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_http_is_never_a_5xx(server: Served, raw: bytes) -> None:
    """Bad framing is answered (by the app with the JSON error body, or by the server with
    its own 4xx, CONTRACT.md) and never a 5xx; `serve` fails on any traceback at the end."""
    resp = raw_request(server.config.port, raw)
    assert resp.status < 500, (resp.status, resp.body[:200])
    if resp.status >= 400 and resp.headers.get("content-type", "").startswith("application/json"):
        body = json.loads(resp.body)
        assert set(body["error"]) == {"code", "message", "details"}
        if resp.status == 400:
            assert body["error"]["code"] == "malformed_json"


def test_unknown_path_is_404(server: Served) -> None:
    assert_error(server.client.get("/no/such/path"), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path"), [("DELETE", "/api/items"), ("POST", "/json"), ("PATCH", "/api/items/1")]
)
def test_wrong_method_is_405_with_allow(server: Served, method: str, path: str) -> None:
    resp = server.client.request(method, path)
    assert_error(resp, 405, "method_not_allowed")
    assert resp.headers.get("allow")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"limit": 0}, {("limit", "greater_than_equal")}),
        ({"limit": 101}, {("limit", "less_than_equal")}),
        ({"limit": "x"}, {("limit", "int_parsing")}),
        ({"offset": -1}, {("offset", "greater_than_equal")}),
    ],
)
def test_bad_list_query_is_422(
    server: Served, query: dict[str, Any], expected: set[tuple[str, str]]
) -> None:
    err = assert_error(server.client.get("/api/items", params=query), 422, "validation_error")
    assert fields(err) == expected


def test_upstream_call_waits_and_returns_its_json(server: Served) -> None:
    started = time.perf_counter()
    resp = server.client.get("/api/upstream", params={"ms": 60})
    took = time.perf_counter() - started
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["delay_ms"] == 60 and body["sent_ns"] >= body["received_ns"]
    assert took >= 0.06


@pytest.mark.parametrize(
    ("ms", "etype"),
    [("-1", "greater_than_equal"), ("10001", "less_than_equal"), ("x", "int_parsing")],
)
def test_upstream_bad_ms_is_422(server: Served, ms: str, etype: str) -> None:
    err = assert_error(
        server.client.get("/api/upstream", params={"ms": ms}), 422, "validation_error"
    )
    assert fields(err) == {("ms", etype)}


def test_cpu_work_is_the_shared_code(server: Served) -> None:
    resp = server.client.get("/api/cpu", params={"n": 1234})
    assert resp.status_code == 200
    assert resp.json() == {"n": 1234, "digest": cpu_work(1234)}
    assert server.client.get("/api/cpu").json()["n"] == 10_000


@pytest.mark.parametrize("n", ["0", "1000001", "lots"])
def test_cpu_bad_n_is_422(server: Served, n: str) -> None:
    assert_error(server.client.get("/api/cpu", params={"n": n}), 422, "validation_error")


def test_health(server: Served) -> None:
    resp = server.client.get("/health")
    assert resp.status_code == 200 and resp.json() == {"status": "ok"}
