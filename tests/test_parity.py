"""Parity: one sequence of requests, bad ones included, to a Flask and a FastAPI target.

Same status codes and the same JSON, apart from ids, timestamps and random values.
"""

from __future__ import annotations

from typing import Any

import pytest
from support.normalize import comparable
from support.served import Served

J = {"content-type": "application/json"}

# (method, path, body bytes or JSON, headers). Order matters: ids created by the POSTs are
# the same in both twins because both databases start identical.
SEQUENCE: list[tuple[str, str, Any, dict[str, str]]] = [
    ("GET", "/json", None, {}),
    ("GET", "/plaintext", None, {}),
    ("GET", "/db", None, {}),
    ("GET", "/queries?queries=3", None, {}),
    ("GET", "/queries?queries=zzz", None, {}),
    ("GET", "/updates?queries=2", None, {}),
    ("GET", "/cached-queries?count=4", None, {}),
    ("GET", "/fortunes", None, {}),
    ("POST", "/api/items", {"name": "a", "price": 1.25, "tags": ["x"]}, {}),
    ("POST", "/api/items", {"name": "b", "price": 0}, {}),
    ("GET", "/api/items?limit=5", None, {}),
    ("GET", "/api/items?limit=1&offset=1", None, {}),
    ("PUT", "/api/items/1", {"name": "a2", "price": 3, "tags": []}, {}),
    ("GET", "/api/items/1", None, {}),
    ("DELETE", "/api/items/2", None, {}),
    ("DELETE", "/api/items/2", None, {}),
    ("GET", "/api/items/2", None, {}),
    ("GET", "/api/items/abc", None, {}),
    ("GET", "/api/items/0", None, {}),
    ("GET", "/api/items/4294967296", None, {}),
    ("POST", "/api/items", b"{not json", J),
    ("POST", "/api/items", b"", J),
    ("POST", "/api/items", b'{"name": "x", "price": 1}', {"content-type": "text/plain"}),
    ("POST", "/api/items", {"name": "", "price": -1, "tags": ["t"] * 11, "zz": 1}, {}),
    ("POST", "/api/items", {"name": None, "price": "1e999"}, {}),
    ("POST", "/api/items", [], {}),
    ("POST", "/api/items", "just a string", {}),
    ("POST", "/api/items", {"name": "x", "price": 1, "tags": [1, None, "ok"]}, {}),
    ("PUT", "/api/items/1", {"price": 2}, {}),
    ("POST", "/api/items", {"name": "nul\x00", "price": 1, "tags": ["a\x00"]}, {}),
    ("POST", "/api/items", b"[" * 50_000 + b"]" * 50_000, J),
    ("PUT", "/api/items/999999", {"name": ""}, {}),
    ("GET", "/api/items?limit=3&limit=500", None, {}),
    ("PUT", "/api/items/999999", {"name": "x", "price": 2}, {}),
    ("POST", "/api/items", b'{"name": "' + b"x" * (1024 * 1024) + b'", "price": 1}', J),
    ("GET", "/api/items?limit=0", None, {}),
    ("GET", "/api/items?limit=abc&offset=-4", None, {}),
    ("GET", "/api/items?offset=99999999999", None, {}),
    ("GET", "/api/upstream?ms=5", None, {}),
    ("GET", "/api/upstream?ms=-5", None, {}),
    ("GET", "/api/upstream?ms=1.5", None, {}),
    ("GET", "/api/cpu?n=77", None, {}),
    ("GET", "/api/cpu?n=0", None, {}),
    ("GET", "/sse/stream?events=0", None, {}),
    ("GET", "/sse/stream?events=2&interval_ms=0", None, {"Last-Event-ID": "x"}),
    ("DELETE", "/json", None, {}),
    ("POST", "/fortunes", None, {}),
    ("PATCH", "/api/items/1", None, {}),
    ("OPTIONS", "/api/items", None, {}),
    ("HEAD", "/json", None, {}),
    ("GET", "/nowhere", None, {}),
    # Ids that are not a valid in-range id, any length, every method: 404 in both (FastAPI
    # gave a 500 past 4300 digits, Flask 405 for PUT/DELETE). 4,001 digits is the longest
    # the Flask twin's gunicorn lets through (request lines ≤ 4094 bytes).
    *[
        (
            method,
            f"/api/items/{item_id}",
            {"name": "x", "price": 1} if method == "PUT" else None,
            {},
        )
        for item_id in ("2147483648", "9" * 20, "1" + "0" * 4000, "0" * 4000 + "1")
        for method in ("GET", "PUT", "DELETE")
    ],
    # The body before the id: 422 (or 400), not 404, for an out-of-range id (FastAPI gave 404).
    ("PUT", "/api/items/0", {"name": ""}, {}),
    ("PUT", "/api/items/2147483648", {"name": "x", "price": True}, {}),
    ("PUT", "/api/items/" + "9" * 4000, {"price": "3"}, {}),
    ("PUT", "/api/items/0", b"{", J),
    ("PUT", "/api/items/0", b'{"name": "x", "price": 1}', {"content-type": "text/plain"}),
    # Strict price: true and "3" are the wrong type.
    ("POST", "/api/items", {"name": "x", "price": True}, {}),
    ("POST", "/api/items", {"name": "x", "price": "3"}, {}),
    ("POST", "/api/items", {"name": "x", "price": 3}, {}),
    # TechEmpower counts: only ASCII digits are an integer; huge ones clamp to 500.
    ("GET", "/queries?queries=1_0", None, {}),
    ("GET", "/queries?queries=%2B3", None, {}),
    ("GET", "/queries?queries=%D9%A3", None, {}),
    ("GET", "/queries?queries=" + "9" * 4000, None, {}),
    ("GET", "/cached-queries?count=%207%20", None, {}),
    # Plain HTTP to a WebSocket-only path, any method: 404 (Flask gave 405 for POST).
    *[(method, "/ws/echo", None, {}) for method in ("GET", "POST", "PUT", "DELETE", "OPTIONS")],
    ("POST", "/ws/broadcast", b"{}", J),
    ("GET", "/health", None, {}),
]


def _send(server: Served, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    if body is None or isinstance(body, bytes):
        resp = server.client.request(method, path, content=body, headers=headers)
    else:
        resp = server.client.request(method, path, json=body, headers=headers)
    return comparable(resp.status_code, resp.headers.get("content-type", ""), resp.content)


@pytest.mark.slow
def test_same_sequence_same_answers(twins: tuple[Served, Served]) -> None:
    flask, fastapi = twins
    differences = []
    for method, path, body, headers in SEQUENCE:
        a = _send(flask, method, path, body, headers)
        b = _send(fastapi, method, path, body, headers)
        if a != b:
            differences.append(f"{method} {path}:\n  flask   {a!r:.600}\n  fastapi {b!r:.600}")
        assert a[0] < 500 and b[0] < 500, f"{method} {path}: 5xx"
    assert not differences, "\n".join(differences)
