"""SSE through the app, and both WebSockets against a real (werkzeug) server in a thread."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import websocket
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import BaseWSGIServer, make_server

from twinbench.apps.flask_app.state import Services


def _events(text: str) -> list[dict[str, int]]:
    return [
        json.loads(line[len("data: ") :]) for line in text.splitlines() if line.startswith("data: ")
    ]


def test_sse_stream(client: FlaskClient) -> None:
    response = client.get("/sse/stream?events=3&interval_ms=10")
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Accel-Buffering"] == "no"
    assert "Content-Length" not in response.headers
    text = response.get_data(as_text=True)
    assert [line for line in text.splitlines() if line.startswith("id: ")] == [
        "id: 1",
        "id: 2",
        "id: 3",
    ]
    events = _events(text)
    assert [(e["seq"], e["total"]) for e in events] == [(1, 3), (2, 3), (3, 3)]
    assert abs(events[0]["sent_ns"] - time.time_ns()) < 5 * 10**9
    assert events[2]["sent_ns"] - events[0]["sent_ns"] >= 19 * 10**6  # ~2 intervals of 10 ms


def test_sse_defaults(client: FlaskClient) -> None:
    started = time.monotonic()
    events = _events(client.get("/sse/stream").get_data(as_text=True))
    assert [(e["seq"], e["total"]) for e in events] == [(i, 10) for i in range(1, 11)]
    assert time.monotonic() - started >= 0.85  # 9 intervals of 100 ms


def test_sse_heartbeats(client: FlaskClient) -> None:
    text = client.get("/sse/stream?events=2&interval_ms=180&heartbeat_ms=50").get_data(True)
    assert text.count(": heartbeat\n\n") == 3
    assert text.index("id: 1") < text.index(": heartbeat") < text.index("id: 2")


def test_sse_resume(client: FlaskClient) -> None:
    text = client.get(
        "/sse/stream?events=5&interval_ms=0", headers={"Last-Event-ID": "3"}
    ).get_data(True)
    assert [e["seq"] for e in _events(text)] == [4, 5]
    empty = client.get("/sse/stream?events=5", headers={"Last-Event-ID": "5"})
    assert empty.status_code == 200
    assert empty.data == b""


def test_sse_bad_input(client: FlaskClient) -> None:
    response = client.get(
        "/sse/stream?events=10001&interval_ms=-1&heartbeat_ms=49",
        headers={"Last-Event-ID": "abc"},
    )
    assert response.status_code == 422
    details = response.get_json()["error"]["details"]
    assert [(d["field"], d["type"]) for d in details] == [
        ("events", "less_than_equal"),
        ("interval_ms", "greater_than_equal"),
        ("heartbeat_ms", "greater_than_equal"),
        ("Last-Event-ID", "int_parsing"),
    ]
    only_header = client.get("/sse/stream", headers={"Last-Event-ID": "-2"})
    assert only_header.status_code == 422
    assert only_header.get_json()["error"]["details"] == [
        {
            "field": "Last-Event-ID",
            "type": "greater_than_equal",
            "message": "Input should be greater than or equal to 0",
        }
    ]


def test_sse_head_does_not_stream(client: FlaskClient) -> None:
    started = time.monotonic()
    response = client.head("/sse/stream?events=100&interval_ms=1000")
    assert response.status_code == 200
    assert response.data == b""
    assert time.monotonic() - started < 1


@pytest.fixture()
def ws_base(app: Flask) -> Iterator[str]:
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"ws://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_ws_echo_text_and_binary(ws_base: str) -> None:
    ws = websocket.create_connection(f"{ws_base}/ws/echo", timeout=5)
    try:
        ws.send("héllo")
        assert ws.recv() == "héllo"
        ws.send_binary(b"\x00\xffbin")
        opcode, data = ws.recv_data()
        assert (opcode, data) == (websocket.ABNF.OPCODE_BINARY, b"\x00\xffbin")
        big = "x" * 200_000
        ws.send(big)
        assert ws.recv() == big
    finally:
        ws.close()


def test_ws_broadcast_reaches_everyone_including_sender(ws_base: str, services: Services) -> None:
    clients = [websocket.create_connection(f"{ws_base}/ws/broadcast", timeout=5) for _ in range(3)]
    try:
        deadline = time.monotonic() + 5
        while len(services.hub) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(services.hub) == 3
        clients[0].send("to all")
        assert [c.recv() for c in clients] == ["to all"] * 3
        clients[2].send_binary(b"\x01\x02")
        assert [c.recv_data()[1] for c in clients] == [b"\x01\x02"] * 3
        clients[1].close()
        deadline = time.monotonic() + 5
        while len(services.hub) > 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(services.hub) == 2
        clients[0].send("after")
        assert [clients[0].recv(), clients[2].recv()] == ["after", "after"]
    finally:
        for c in clients:
            c.close()


def test_websocket_on_a_server_without_socket_access_is_501(client: FlaskClient) -> None:
    # The test client, like waitress, exposes no socket to upgrade.
    response = client.get(
        "/ws/echo",
        headers={
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version": "13",
        },
    )
    assert response.status_code == 501
    assert response.get_json()["error"]["code"] == "not_implemented"


def test_websocket_on_a_gunicorn_sync_worker_is_501(client: FlaskClient) -> None:
    # What gunicorn's sync worker puts into the environ: its socket, and no multithreading.
    # Before the fix the socket alone counted as "can upgrade" and the worker was taken over.
    server_side, client_side = socket.socketpair()
    with server_side, client_side:
        response = client.get(
            "/ws/echo",
            headers={
                "Connection": "Upgrade",
                "Upgrade": "websocket",
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                "Sec-WebSocket-Version": "13",
            },
            environ_overrides={"gunicorn.socket": server_side, "wsgi.multithread": False},
        )
    assert response.status_code == 501
    assert response.get_json()["error"]["code"] == "not_implemented"


def test_server_can_upgrade() -> None:
    from twinbench.apps.flask_app.realtime import server_can_upgrade

    # gunicorn's gthread and async workers set wsgi.multithread; its sync worker does not,
    # and a WebSocket would hold that worker's only request slot (gunicorn/http/wsgi.py).
    assert server_can_upgrade({"gunicorn.socket": object(), "wsgi.multithread": True})
    assert not server_can_upgrade({"gunicorn.socket": object(), "wsgi.multithread": False})
    assert not server_can_upgrade({"gunicorn.socket": object()})
    assert server_can_upgrade({"SERVER_SOFTWARE": "gevent/24"})
    assert server_can_upgrade({"werkzeug.socket": object()})
    assert not server_can_upgrade({"SERVER_SOFTWARE": "waitress"})


def test_send_all_socket_writes_everything_and_delegates_the_rest() -> None:
    import socket

    from twinbench.apps.flask_app.realtime import SendAllSocket

    class Partial:
        """A socket whose send() writes one byte at a time, as a cooperative one may."""

        def __init__(self) -> None:
            self.out = b""

        def send(self, data: bytes) -> int:
            self.out += data[:1]
            return 1

        def sendall(self, data: bytes) -> None:
            while data:
                data = data[self.send(data) :]

        def fileno(self) -> int:
            return 7

    raw = Partial()
    wrapped = SendAllSocket(raw)  # type: ignore[arg-type]
    assert wrapped.send(b"frame") == 5
    assert raw.out == b"frame"
    assert wrapped.fileno() == 7
    assert isinstance(SendAllSocket(socket.socket()).family, socket.AddressFamily)


@pytest.mark.parametrize(
    ("headers", "field", "version_header"),
    [
        ({"Sec-WebSocket-Key": None}, "Sec-WebSocket-Key", False),
        ({"Sec-WebSocket-Key": "abc"}, "Sec-WebSocket-Key", False),
        ({"Sec-WebSocket-Version": None}, "Sec-WebSocket-Version", True),
        ({"Sec-WebSocket-Version": "8"}, "Sec-WebSocket-Version", True),
    ],
)
def test_malformed_handshake_is_400_before_flask_sock(
    client: FlaskClient, headers: dict[str, str | None], field: str, version_header: bool
) -> None:
    # As gunicorn's gthread worker would hand it over: flask-sock used to raise (a 500).
    sent = {
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
    }
    sent.update(headers)  # type: ignore[arg-type]
    server_side, client_side = socket.socketpair()
    with server_side, client_side:
        response = client.get(
            "/ws/echo",
            headers={k: v for k, v in sent.items() if v is not None},
            environ_overrides={"gunicorn.socket": server_side, "wsgi.multithread": True},
        )
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "bad_handshake"
    assert [d["field"] for d in error["details"]] == [field]
    assert ("Sec-WebSocket-Version" in response.headers) is version_header


def test_http_1_0_handshake_is_400(client: FlaskClient) -> None:
    server_side, client_side = socket.socketpair()
    with server_side, client_side:
        response = client.get(
            "/ws/broadcast",
            headers={
                "Connection": "Upgrade",
                "Upgrade": "websocket",
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                "Sec-WebSocket-Version": "13",
            },
            environ_overrides={
                "gunicorn.socket": server_side,
                "wsgi.multithread": True,
                "SERVER_PROTOCOL": "HTTP/1.0",
            },
        )
    assert response.status_code == 400
    assert response.get_json()["error"]["details"][0]["field"] == "http_version"
