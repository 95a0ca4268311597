"""SSE (/sse/stream) and WebSockets (/ws/echo, /ws/broadcast)."""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

import pytest
from pydantic import Field, TypeAdapter, ValidationError
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from twinbench.apps.common.errors import validation_details
from twinbench.apps.fastapi_app.realtime import HEARTBEAT, event_stream, sse_event
from twinbench.apps.fastapi_app.resources import Resources

from .helpers import assert_error

INT_PARSING = "Input should be a valid integer, unable to parse string as an integer"


def _events(text: str) -> list[dict[str, Any]]:
    """Parse an event stream into its events (comments dropped)."""
    events = []
    for block in text.split("\n\n"):
        lines = [line for line in block.split("\n") if line and not line.startswith(":")]
        if lines:
            fields = dict(line.split(": ", 1) for line in lines)
            events.append({"id": int(fields["id"]), "data": json.loads(fields["data"])})
    return events


def test_sse_stream_defaults_and_headers(client: TestClient) -> None:
    start_ns = time.time_ns()
    response = client.get("/sse/stream?interval_ms=0")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    events = _events(response.text)
    assert [e["id"] for e in events] == list(range(1, 11))
    assert [e["data"]["seq"] for e in events] == list(range(1, 11))
    assert {e["data"]["total"] for e in events} == {10}
    sent = [e["data"]["sent_ns"] for e in events]
    assert start_ns <= sent[0] and sent == sorted(sent) and sent[-1] <= time.time_ns()


def test_sse_wire_format(client: TestClient) -> None:
    text = client.get("/sse/stream?events=1").text
    assert text.startswith('id: 1\ndata: {"seq": 1, "total": 1, "sent_ns": ')
    assert text.endswith("}\n\n")


def test_sse_paces_events(client: TestClient) -> None:
    start = time.perf_counter()
    text = client.get("/sse/stream?events=3&interval_ms=100").text
    elapsed = time.perf_counter() - start
    assert len(_events(text)) == 3
    assert 0.2 <= elapsed < 2.0  # first at once, then two 100 ms waits


@pytest.mark.parametrize(
    ("last_id", "ids"), [("0", [1, 2, 3]), ("1", [2, 3]), ("3", []), ("99", []), (" 2", [3])]
)
def test_sse_resumes_after_last_event_id(client: TestClient, last_id: str, ids: list[int]) -> None:
    response = client.get("/sse/stream?events=3&interval_ms=0", headers={"Last-Event-ID": last_id})
    assert response.status_code == 200
    assert [e["id"] for e in _events(response.text)] == ids


@pytest.mark.parametrize(
    ("last_id", "type_", "message"),
    [
        ("x", "int_parsing", INT_PARSING),
        ("-1", "greater_than_equal", "Input should be greater than or equal to 0"),
        ("1.5", "int_parsing", INT_PARSING),
        ("", "int_parsing", INT_PARSING),
    ],
)
def test_sse_bad_last_event_id_is_422(
    client: TestClient, last_id: str, type_: str, message: str
) -> None:
    response = client.get("/sse/stream", headers={"Last-Event-ID": last_id})
    details = [{"field": "Last-Event-ID", "type": type_, "message": message}]
    assert_error(response, 422, "validation_error", details)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("events=0", "events"),
        ("events=10001", "events"),
        ("interval_ms=-1", "interval_ms"),
        ("interval_ms=60001", "interval_ms"),
        ("heartbeat_ms=49", "heartbeat_ms"),
        ("heartbeat_ms=x", "heartbeat_ms"),
    ],
)
def test_sse_query_errors(client: TestClient, query: str, field: str) -> None:
    response = client.get(f"/sse/stream?{query}")
    assert_error(response, 422, "validation_error")
    assert [d["field"] for d in response.json()["error"]["details"]] == [field]


# The Flask twin validates the header with exactly this adapter.
_FLASK_LAST_EVENT_ID: TypeAdapter[int] = TypeAdapter(Annotated[int, Field(ge=0)])


@pytest.mark.parametrize(
    "raw", ["x", "-1", "1.5", "", " 2", "1e3", "+3", "1_000", "0x10", "2.0", "0", "10**3", "٣"]
)
def test_last_event_id_errors_match_the_flask_twins_adapter(client: TestClient, raw: str) -> None:
    try:
        resume = _FLASK_LAST_EVENT_ID.validate_python(raw)
    except ValidationError as exc:
        details = validation_details(exc.errors())
        for detail in details:
            detail["field"] = "Last-Event-ID"
        response = client.get("/sse/stream", headers={"Last-Event-ID": raw.encode()})
        assert_error(response, 422, "validation_error", details)
    else:
        response = client.get(
            "/sse/stream?events=3&interval_ms=0", headers={"Last-Event-ID": raw.encode()}
        )
        assert [e["id"] for e in _events(response.text)] == list(range(resume + 1, 4))


def test_bad_query_and_bad_header_are_reported_together(client: TestClient) -> None:
    response = client.get("/sse/stream?events=0", headers={"Last-Event-ID": "-1"})
    assert_error(response, 422, "validation_error")
    fields = [d["field"] for d in response.json()["error"]["details"]]
    assert fields == ["events", "Last-Event-ID"]


def test_sse_event_bytes() -> None:
    before = time.time_ns()
    raw = sse_event(3, 10)
    head, data, blank = raw.decode().split("\n", 2)
    assert head == "id: 3" and blank == "\n"
    payload = json.loads(data.removeprefix("data: "))
    assert payload["seq"] == 3 and payload["total"] == 10
    assert before <= payload["sent_ns"] <= time.time_ns()


@pytest.mark.anyio
async def test_event_stream_heartbeats_while_waiting() -> None:
    chunks: list[tuple[float, bytes]] = []
    start = time.perf_counter()
    async for chunk in event_stream(1, 2, interval_ms=250, heartbeat_ms=100):
        chunks.append((time.perf_counter() - start, chunk))
    kinds = [b"event" if c.startswith(b"id:") else c for _, c in chunks]
    assert kinds == [b"event", HEARTBEAT, HEARTBEAT, b"event"]
    assert chunks[0][0] < 0.05  # the first event is immediate
    assert 0.25 <= chunks[-1][0] < 0.5  # the second is on schedule, not delayed by heartbeats


@pytest.mark.anyio
async def test_event_stream_without_waits_has_no_heartbeats() -> None:
    chunks = [chunk async for chunk in event_stream(2, 4, interval_ms=0, heartbeat_ms=50)]
    assert [c.split(b"\n", 1)[0] for c in chunks] == [b"id: 2", b"id: 3", b"id: 4"]


def test_ws_echo_text_and_binary(client: TestClient) -> None:
    with client.websocket_connect("/ws/echo") as ws:
        ws.send_text("héllo")
        assert ws.receive_text() == "héllo"
        ws.send_bytes(b"\x00\xffbin")
        assert ws.receive_bytes() == b"\x00\xffbin"
        ws.send_text("")
        assert ws.receive_text() == ""


def test_ws_broadcast_reaches_everyone_including_the_sender(client: TestClient) -> None:
    hub = client.app_state["resources"].hub
    with (
        client.websocket_connect("/ws/broadcast") as a,
        client.websocket_connect("/ws/broadcast") as b,
    ):
        _wait_for(lambda: len(hub) == 2)
        a.send_text("from a")
        assert a.receive_text() == "from a"
        assert b.receive_text() == "from a"
        b.send_bytes(b"\x01from b")
        assert a.receive_bytes() == b"\x01from b"
        assert b.receive_bytes() == b"\x01from b"
    _wait_for(lambda: len(hub) == 0)


def test_ws_broadcast_survives_a_departed_client(client: TestClient) -> None:
    resources: Resources = client.app_state["resources"]
    with client.websocket_connect("/ws/broadcast") as a:
        with client.websocket_connect("/ws/broadcast") as b:
            _wait_for(lambda: len(resources.hub) == 2)
            b.send_text("hi")
            assert b.receive_text() == "hi"
        _wait_for(lambda: len(resources.hub) == 1)
        a.send_text("still here")
        assert a.receive_text() == "hi"
        assert a.receive_text() == "still here"


def test_http_get_on_a_websocket_path_is_404(client: TestClient) -> None:
    assert_error(client.get("/ws/echo"), 404, "not_found", [])


def test_unknown_websocket_path_is_refused(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/ws/nope"):
        pass


def _wait_for(condition: Any, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)
