"""Malformed WebSocket handshakes, sent raw, on every target: a 4xx, never a 5xx or a
traceback (apps/CONTRACT.md, "Bad input"; apps/common/handshake.py).

Targets the registry declares without WebSocket answer a handshake with the contract's 501,
as before; a request that is not a handshake at all (no `Upgrade`/`Connection`) is plain
HTTP to a WebSocket-only path: 404 everywhere.
"""

from __future__ import annotations

import json

import pytest
from support.raw import RawResponse, raw_request
from support.served import Served

from twinbench.define.targets import App, Feature, WorkerModel

KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455's sample: base64 of 16 bytes


def handshake(
    path: str,
    *,
    method: str = "GET",
    version: str = "HTTP/1.1",
    host: bool = True,
    upgrade: str | None = "websocket",
    connection: str | None = "Upgrade",
    key: str | None = KEY,
    ws_version: str | None = "13",
    extra: tuple[str, ...] = (),
) -> bytes:
    lines = [f"{method} {path} {version}"]
    if host:
        lines.append("Host: 127.0.0.1")
    if upgrade is not None:
        lines.append(f"Upgrade: {upgrade}")
    if connection is not None:
        lines.append(f"Connection: {connection}")
    if key is not None:
        lines.append(f"Sec-WebSocket-Key: {key}")
    if ws_version is not None:
        lines.append(f"Sec-WebSocket-Version: {ws_version}")
    lines.extend(extra)
    if method in ("POST", "PUT"):
        lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


# A handshake (Upgrade and Connection say WebSocket) that RFC 6455 says to refuse.
BAD_HANDSHAKES = {
    "no key": {"key": None},
    "empty key": {"key": ""},
    "short key": {"key": "abc"},
    "non-base64 key": {"key": "!!!!not base64!!!!!!!!=="},
    "key of 15 bytes": {"key": "AAAAAAAAAAAAAAAAAAAA"},
    "two keys": {"extra": (f"Sec-WebSocket-Key: {KEY}",)},
    "no version": {"ws_version": None},
    "version 8": {"ws_version": "8"},
    "version not a number": {"ws_version": "x"},
    "no Host": {"host": False},
    "POST": {"method": "POST"},
    "PUT": {"method": "PUT"},
}
# Not a handshake at all: plain HTTP to a WebSocket-only path.
NOT_HANDSHAKES = {
    "no Upgrade": {"upgrade": None},
    "Upgrade: h2c": {"upgrade": "h2c"},
    "no Connection": {"connection": None},
    "Connection: keep-alive": {"connection": "keep-alive"},
}
PATHS = ["/ws/echo", "/ws/broadcast"]


def _check_json_error(response: RawResponse, codes: set[str]) -> None:
    """The app's answers carry the contract's error body; the server's own 400s (uvicorn
    checks the key and version itself) are plain text, and are the server's, not the app's."""
    if response.headers.get("content-type", "").startswith("application/json"):
        assert json.loads(response.body)["error"]["code"] in codes, response


def _no_traceback(server: Served) -> None:
    assert "Traceback" not in server.stderr_tail(), server.stderr_tail(60)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("case", list(BAD_HANDSHAKES))
def test_bad_handshake_is_a_4xx(server: Served, path: str, case: str) -> None:
    response = raw_request(server.config.port, handshake(path, **BAD_HANDSHAKES[case]), timeout=5)
    if not server.target.supports(Feature.WEBSOCKET) and response.status == 501:
        # The registry's "no websocket", as before (uvicorn may refuse the handshake first).
        _check_json_error(response, {"not_implemented"})
    else:
        assert 400 <= response.status < 500, response
        _check_json_error(response, {"bad_handshake", "not_found", "method_not_allowed"})
    if response.status == 400 and "version" in case and server.target.app is App.FLASK:
        assert response.headers["sec-websocket-version"] == "13"
    _no_traceback(server)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("case", list(NOT_HANDSHAKES))
def test_request_without_upgrade_headers_is_404(server: Served, path: str, case: str) -> None:
    response = raw_request(server.config.port, handshake(path, **NOT_HANDSHAKES[case]), timeout=5)
    assert response.status == 404, response
    _check_json_error(response, {"not_found"})
    _no_traceback(server)


@pytest.mark.parametrize("path", PATHS)
def test_http_1_0_handshake(server: Served, path: str) -> None:
    """RFC 6455 wants HTTP/1.1 or later. Where the app sees the request line (gunicorn,
    Flask twin) it answers 400; uvicorn rewrites every handshake as HTTP/1.1 before the app
    sees it, and upgrades (apps/CONTRACT.md). Never a 5xx."""
    response = raw_request(server.config.port, handshake(path, version="HTTP/1.0"), timeout=3)
    if not server.target.supports(Feature.WEBSOCKET):
        assert response.status == 501, response
    elif server.target.worker_model is WorkerModel.ASYNCIO:  # uvicorn parses the request
        assert response.status == 101, response
    else:
        assert response.status == 400, response
        _check_json_error(response, {"bad_handshake"})
    _no_traceback(server)


def test_server_serves_after_the_bad_handshakes(server: Served) -> None:
    for path in PATHS:
        for case in BAD_HANDSHAKES.values():
            raw_request(server.config.port, handshake(path, **case), timeout=5)
    assert server.client.get("/json", timeout=5).status_code == 200
    _no_traceback(server)
