"""Server-Sent Events and WebSocket, on every target that serves them."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from support.headers import check_common_headers, denial_has_server_stamps
from support.served import Served
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from twinbench.define.targets import Feature


def read_sse(
    server: Served, query: str, headers: dict[str, str] | None = None
) -> tuple[list[dict[str, Any]], list[str], Any]:
    """Events (id, data) and comment lines, in order, from one complete stream."""
    events: list[dict[str, Any]] = []
    comments: list[str] = []
    with server.client.stream("GET", "/sse/stream" + query, headers=headers or {}) as resp:
        current: dict[str, Any] = {}
        for line in resp.iter_lines():
            if line.startswith(":"):
                comments.append(line)
            elif line.startswith("id:"):
                current["id"] = line[3:].strip()
            elif line.startswith("data:"):
                current["data"] = json.loads(line[5:].strip())
                current["t"] = time.perf_counter()
            elif line == "" and current:
                events.append(current)
                current = {}
        return events, comments, resp


def test_sse_events_in_order(server: Served) -> None:
    server.require(Feature.SSE)
    started = time.perf_counter()
    events, _, resp = read_sse(server, "?events=5&interval_ms=40")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/event-stream")
    assert [e["id"] for e in events] == ["1", "2", "3", "4", "5"]
    assert [e["data"]["seq"] for e in events] == [1, 2, 3, 4, 5]
    assert all(e["data"]["total"] == 5 for e in events)
    sent = [e["data"]["sent_ns"] for e in events]
    assert sent == sorted(sent)
    # Paced by the server: ~4 intervals between first and last, first one immediately.
    assert (sent[-1] - sent[0]) / 1e6 >= 4 * 40 * 0.9
    assert events[0]["t"] - started < 1.0
    # Delivered as written, not buffered to the end.
    assert events[-1]["t"] - events[0]["t"] >= 0.1


def test_sse_resumes_after_last_event_id(server: Served) -> None:
    server.require(Feature.SSE)
    events, _, _ = read_sse(server, "?events=5&interval_ms=0", {"Last-Event-ID": "3"})
    assert [e["id"] for e in events] == ["4", "5"]
    events, _, resp = read_sse(server, "?events=5&interval_ms=0", {"Last-Event-ID": "5"})
    assert resp.status_code == 200 and events == []


def test_sse_heartbeats_while_idle(server: Served) -> None:
    server.require(Feature.SSE)
    events, comments, _ = read_sse(server, "?events=2&interval_ms=450&heartbeat_ms=100")
    assert len(events) == 2
    assert len(comments) >= 2 and all(
        c.startswith(": heartbeat") or c == ":heartbeat" for c in comments
    )


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ("?events=0", {}),
        ("?interval_ms=-1", {}),
        ("?heartbeat_ms=10", {}),
        ("?events=x", {}),
        ("", {"Last-Event-ID": "abc"}),
        ("", {"Last-Event-ID": "-2"}),
    ],
)
def test_sse_bad_input_is_422(server: Served, query: str, headers: dict[str, str]) -> None:
    server.require(Feature.SSE)
    resp = server.client.get("/sse/stream" + query, headers=headers)
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "validation_error"


def test_ws_echo_text_and_binary(server: Served) -> None:
    server.require(Feature.WEBSOCKET)
    with connect(server.ws_url + "/ws/echo", open_timeout=10) as ws:
        for i in range(3):
            ws.send(f"hello {i}")
            assert ws.recv(timeout=5) == f"hello {i}"
        ws.send(b"\x00\x01\xff")
        assert ws.recv(timeout=5) == b"\x00\x01\xff"


def test_ws_broadcast_reaches_three_clients(server: Served) -> None:
    server.require(Feature.WEBSOCKET)
    url = server.ws_url + "/ws/broadcast"
    with (
        connect(url, open_timeout=10) as a,
        connect(url, open_timeout=10) as b,
        connect(url, open_timeout=10) as c,
    ):
        time.sleep(0.2)  # all three registered before the first message
        a.send("from a")
        assert [ws.recv(timeout=5) for ws in (a, b, c)] == ["from a"] * 3
        c.send(b"bin")
        assert [ws.recv(timeout=5) for ws in (a, b, c)] == [b"bin"] * 3


@pytest.mark.parametrize("path", ["/ws/echo", "/ws/broadcast"])
def test_ws_handshake_answer_matches_the_registry(server: Served, path: str) -> None:
    """Where the registry says "no websocket", the handshake gets the contract's 501 with
    the JSON error body, at once, and the server goes on serving (a gunicorn sync worker
    used to accept the upgrade and be held by it). Elsewhere the upgrade succeeds."""
    started = time.perf_counter()
    if server.target.supports(Feature.WEBSOCKET):
        with connect(server.ws_url + path, open_timeout=10) as ws:
            ws.send("ping")
            assert ws.recv(timeout=5) == "ping"
        return
    with pytest.raises(InvalidStatus) as refused:
        connect(server.ws_url + path, open_timeout=10).close()
    took = time.perf_counter() - started
    response = refused.value.response
    assert response.status_code == 501, response
    assert took < 3, f"the 501 took {took:.1f} s"
    headers = {name: value for name, value in response.headers.raw_items()}
    stamps = denial_has_server_stamps(server.target.argv)
    check_common_headers("GET", 501, headers, server_stamps=stamps)
    assert response.headers["content-type"].startswith("application/json")
    assert json.loads(response.body) == {
        "error": {
            "code": "not_implemented",
            "message": "This server configuration cannot upgrade connections to WebSocket",
            "details": [],
        }
    }
    # The single worker was not taken over: a plain request is served at once.
    started = time.perf_counter()
    assert server.client.get("/json", timeout=5).status_code == 200
    assert time.perf_counter() - started < 2
