"""BodyLimitMiddleware: 413 by Content-Length before the app runs, and while a chunked body
streams; bodiless and small requests pass untouched."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send

from twinbench.apps.common.errors import MAX_BODY_BYTES
from twinbench.apps.fastapi_app.middleware import BodyLimitMiddleware

from .helpers import assert_error

JSON = {"content-type": "application/json"}


class EchoLength:
    """A bare ASGI app that reads the whole body and reports its length."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        body = await Request(scope, receive).body()
        await JSONResponse({"length": len(body)})(scope, receive, send)


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    while total > 0:
        yield b"x" * min(size, total)
        total -= size


@pytest.fixture
def inner() -> EchoLength:
    return EchoLength()


@pytest.fixture
def limited(inner: EchoLength) -> TestClient:
    return TestClient(BodyLimitMiddleware(inner))


def test_declared_length_over_limit_never_reaches_the_app(
    limited: TestClient, inner: EchoLength
) -> None:
    response = limited.post("/", content=b"x" * (MAX_BODY_BYTES + 1))
    assert_error(response, 413, "payload_too_large", [])
    assert response.headers["connection"] == "close"
    assert inner.calls == 0


def test_body_exactly_at_the_limit_passes(limited: TestClient) -> None:
    assert limited.post("/", content=b"x" * MAX_BODY_BYTES).json() == {"length": MAX_BODY_BYTES}


def test_chunked_body_under_the_limit_passes(limited: TestClient) -> None:
    response = limited.post("/", content=_chunks(MAX_BODY_BYTES))
    assert response.json() == {"length": MAX_BODY_BYTES}


def test_chunked_body_over_the_limit_is_413(limited: TestClient) -> None:
    response = limited.post("/", content=_chunks(MAX_BODY_BYTES + 1))
    assert_error(response, 413, "payload_too_large", [])


def test_bodiless_request_passes(limited: TestClient) -> None:
    assert limited.get("/").json() == {"length": 0}


def test_custom_limit() -> None:
    client = TestClient(BodyLimitMiddleware(EchoLength(), max_bytes=10))
    assert client.post("/", content=b"x" * 10).json() == {"length": 10}
    assert_error(client.post("/", content=b"x" * 11), 413, "payload_too_large", [])
    assert_error(client.post("/", content=_chunks(11, size=4)), 413, "payload_too_large", [])


@pytest.mark.parametrize("path", ["/api/items", "/json", "/nope"])
def test_app_refuses_declared_oversize_on_any_path(client: TestClient, path: str) -> None:
    response = client.post(path, content=b"{" + b" " * MAX_BODY_BYTES + b"}", headers=JSON)
    assert_error(response, 413, "payload_too_large", [])


def test_app_refuses_oversize_chunked_item(client: TestClient) -> None:
    response = client.post("/api/items", content=_chunks(MAX_BODY_BYTES + 1), headers=JSON)
    assert_error(response, 413, "payload_too_large", [])


def test_app_accepts_a_chunked_item(client: TestClient) -> None:
    def body() -> Iterator[bytes]:
        yield b'{"name": "chunked", '
        yield b'"price": 1}'

    response = client.post("/api/items", content=body(), headers=JSON)
    assert response.status_code == 201
    assert response.json()["name"] == "chunked"
