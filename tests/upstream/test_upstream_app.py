"""apps/upstream/app.py in process: every endpoint, bad input, HEAD, lifespan, disconnects.

No server is started (the real-server checks are in test_upstream_main.py), so these run in
`make test-fast`.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest

from twinbench.apps.upstream import create_app
from twinbench.apps.upstream.app import MAX_DELAY_MS, Message, _int_param


def _request(method: str, url: str) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
            return await client.request(method, url)

    return asyncio.run(go())


def _error(resp: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status
    assert resp.headers["content-type"] == "application/json"
    assert resp.headers["content-length"] == str(len(resp.content))
    body: dict[str, Any] = resp.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert body["error"]["details"] == []
    return body


def test_health() -> None:
    resp = _request("GET", "/health")
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/json"
    assert resp.json() == {"status": "ok"}


def test_delay_default_is_zero() -> None:
    before = time.time_ns()
    resp = _request("GET", "/delay")
    after = time.time_ns()
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/json"
    assert resp.headers["content-length"] == str(len(resp.content))
    body = resp.json()
    assert set(body) == {"delay_ms", "received_ns", "sent_ns"}
    assert body["delay_ms"] == 0
    assert before <= body["received_ns"] <= body["sent_ns"] <= after


def test_delay_waits_at_least_the_requested_time() -> None:
    start = time.monotonic()
    body = _request("GET", "/delay?ms=50").json()
    elapsed = time.monotonic() - start
    assert body["delay_ms"] == 50
    assert elapsed >= 0.050
    assert body["sent_ns"] - body["received_ns"] >= 50_000_000


@pytest.mark.parametrize(
    "query",
    [
        "ms=",  # present but empty: not silently the default
        "ms=abc",
        "ms=-1",
        "ms=10001",
        "ms=1e3",
        "ms=1.5",
        "ms=+5",
        "ms=%205",  # " 5"
        "ms=5_0",
        "ms=%D9%A5",  # ARABIC-INDIC DIGIT FIVE: int() would take it
        "ms=" + "9" * 5000,  # longer than int() converts
        "ms=abc&ms=5",  # the first of a repeated parameter counts
    ],
)
def test_delay_bad_ms_is_400(query: str) -> None:
    body = _error(_request("GET", f"/delay?{query}"), 400, "bad_request")
    assert "ms" in body["error"]["message"]


def test_delay_bounds_are_inclusive() -> None:
    assert _request("GET", "/delay?ms=0").json()["delay_ms"] == 0
    # 10000 itself is checked on the parser rather than by waiting 10 s.
    assert _int_param({"ms": str(MAX_DELAY_MS)}, "ms", 0, 0, MAX_DELAY_MS) == MAX_DELAY_MS
    assert _int_param({"ms": "007"}, "ms", 0, 0, MAX_DELAY_MS) == 7


def test_unknown_parameters_are_ignored() -> None:
    assert _request("GET", "/delay?ms=1&foo=bar").json()["delay_ms"] == 1


def _events(text: str) -> list[str]:
    assert text.endswith("\n\n")
    return [block.removeprefix("data: ") for block in text[:-2].split("\n\n")]


def test_stream_tokens_then_done() -> None:
    resp = _request("GET", "/stream?tokens=3&interval_ms=0")
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "text/event-stream"
    assert resp.headers["cache-control"] == "no-cache"
    events = _events(resp.text)
    assert events[-1] == "[DONE]"
    assert [json.loads(e) for e in events[:-1]] == [
        {"token": 1, "text": "tok1"},
        {"token": 2, "text": "tok2"},
        {"token": 3, "text": "tok3"},
    ]


def test_stream_defaults_are_20_tokens_50_ms_apart() -> None:
    start = time.monotonic()
    resp = _request("GET", "/stream")
    elapsed = time.monotonic() - start
    events = _events(resp.text)
    assert len(events) == 21
    assert json.loads(events[19]) == {"token": 20, "text": "tok20"}
    # Token k is due k*50 ms after arrival: the last one at 1 s.
    assert 1.0 <= elapsed < 3.0


@pytest.mark.parametrize(
    "query",
    [
        "tokens=0",
        "tokens=10001",
        "tokens=",
        "tokens=x",
        "interval_ms=-1",
        "interval_ms=10001",
        "interval_ms=1.5",
    ],
)
def test_stream_bad_query_is_400(query: str) -> None:
    _error(_request("GET", f"/stream?{query}"), 400, "bad_request")


@pytest.mark.parametrize("path", ["/", "/nope", "/delay/", "/DELAY", "/health/x", "/api/upstream"])
def test_unknown_path_is_404(path: str) -> None:
    _error(_request("GET", path), 404, "not_found")


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
@pytest.mark.parametrize("path", ["/delay", "/stream", "/health"])
def test_other_methods_are_405(method: str, path: str) -> None:
    resp = _request(method, path)
    _error(resp, 405, "method_not_allowed")
    assert resp.headers["allow"] == "GET, HEAD"


def test_head_is_answered_like_get() -> None:
    # httpx's ASGI transport does not drop HEAD bodies the way a server does; status and
    # headers are what must match.
    get, head = _request("GET", "/health"), _request("HEAD", "/health")
    assert head.status_code == get.status_code == 200
    assert head.headers["content-type"] == get.headers["content-type"]
    stream = _request("HEAD", "/stream?tokens=10000&interval_ms=10000")  # must not wait
    assert stream.status_code == 200
    assert stream.headers["content-type"] == "text/event-stream"
    assert stream.content == b""


async def _call(scope: dict[str, Any], incoming: list[Message]) -> list[Message]:
    sent: list[Message] = []
    queue: asyncio.Queue[Message] = asyncio.Queue()
    for message in incoming:
        queue.put_nowait(message)

    async def send(message: Message) -> None:
        sent.append(message)

    await asyncio.wait_for(create_app()(scope, queue.get, send), timeout=5)
    return sent


def test_lifespan_protocol() -> None:
    sent = asyncio.run(
        _call(
            {"type": "lifespan", "asgi": {"version": "3.0"}},
            [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}],
        )
    )
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_websocket_is_refused() -> None:
    sent = asyncio.run(
        _call({"type": "websocket", "path": "/delay"}, [{"type": "websocket.connect"}])
    )
    assert sent == [{"type": "websocket.close", "code": 1000}]


def test_stream_stops_when_the_client_disconnects() -> None:
    # A client that is gone after its request: a 10,000-token stream 10 ms apart (100 s)
    # must end at the next token instead of running on with its writes dropped.
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/stream",
        "query_string": b"tokens=10000&interval_ms=10",
    }
    start = time.monotonic()
    sent = asyncio.run(
        _call(
            scope,
            [
                {"type": "http.request", "body": b"", "more_body": False},
                {"type": "http.disconnect"},
            ],
        )
    )
    assert time.monotonic() - start < 1.0
    assert sent[0]["type"] == "http.response.start"
    assert len(sent) <= 3
