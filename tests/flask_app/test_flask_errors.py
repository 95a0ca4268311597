"""The error layer: every 4xx/5xx carries the contract's JSON body."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from flask.testing import FlaskClient

from twinbench.apps.common.errors import MAX_BODY_BYTES


def _code(response: object) -> str:
    body = response.get_json()  # type: ignore[attr-defined]
    assert response.mimetype == "application/json"  # type: ignore[attr-defined]
    code: str = body["error"]["code"]
    assert isinstance(body["error"]["details"], list)
    assert body["error"]["message"]
    return code


def test_unknown_path(client: FlaskClient) -> None:
    response = client.get("/nope")
    assert response.status_code == 404
    assert _code(response) == "not_found"
    assert client.head("/nope").status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("POST", "/json", {"GET", "HEAD"}),
        ("OPTIONS", "/json", {"GET", "HEAD"}),
        ("OPTIONS", "/api/items", {"GET", "HEAD", "POST"}),
        ("PATCH", "/api/items/1", {"GET", "HEAD", "PUT", "DELETE"}),
        ("DELETE", "/sse/stream", {"GET", "HEAD"}),
    ],
)
def test_method_not_allowed(client: FlaskClient, method: str, path: str, allow: set[str]) -> None:
    response = client.open(path, method=method)
    assert response.status_code == 405
    assert _code(response) == "method_not_allowed"
    assert {m.strip() for m in response.headers["Allow"].split(",")} == allow


def test_declared_oversized_body_is_413_before_anything_else(client: FlaskClient) -> None:
    body = b"x" * (MAX_BODY_BYTES + 1)
    for path in ("/api/items", "/nope", "/json"):
        response = client.post(path, data=body, content_type="application/json")
        assert response.status_code == 413, path
        assert _code(response) == "payload_too_large"


def test_exactly_one_mib_is_read(client: FlaskClient) -> None:
    body = b'{"name": "x", "price": 1}'.ljust(MAX_BODY_BYTES)
    response = client.post("/api/items", data=body, content_type="application/json")
    assert response.status_code == 201


@pytest.mark.parametrize("size", [MAX_BODY_BYTES + 1, 3 * MAX_BODY_BYTES])
def test_chunked_oversized_body_is_413(client: FlaskClient, size: int) -> None:
    # What gunicorn/waitress hand over for `Transfer-Encoding: chunked`: no length, a stream
    # they terminate themselves.
    response = client.post(
        "/api/items",
        input_stream=io.BytesIO(b" " * size),
        content_type="application/json",
        environ_overrides={"wsgi.input_terminated": True},
        headers={"Transfer-Encoding": "chunked"},
    )
    assert response.status_code == 413
    assert _code(response) == "payload_too_large"


def test_chunked_small_body_is_read(client: FlaskClient) -> None:
    response = client.post(
        "/api/items",
        input_stream=io.BytesIO(b'{"name": "chunky", "price": 0}'),
        content_type="application/json",
        environ_overrides={"wsgi.input_terminated": True},
        headers={"Transfer-Encoding": "chunked"},
    )
    assert response.status_code == 201
    assert response.get_json()["name"] == "chunky"


def test_websocket_path_over_plain_http_is_404(client: FlaskClient) -> None:
    for path in ("/ws/echo", "/ws/broadcast"):
        response = client.get(path)
        assert response.status_code == 404
        assert _code(response) == "not_found"


def test_unexpected_exception_is_500_with_body(app: Flask) -> None:
    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("kaput")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    # The shared body, identical to the FastAPI twin's (apps/common/errors.py: INTERNAL_ERROR).
    assert response.get_json() == {
        "error": {
            "code": "internal_error",
            "message": "Internal server error",
            "details": [],
        }
    }
    assert b"kaput" not in response.data


def test_other_http_errors_keep_the_shape(app: Flask) -> None:
    from werkzeug.exceptions import RequestURITooLarge

    @app.get("/long")
    def long() -> str:
        raise RequestURITooLarge()

    response = app.test_client().get("/long")
    assert response.status_code == 414
    assert _code(response) == "request_uri_too_long"


def test_chunked_body_of_exactly_one_mib_is_read(client: FlaskClient) -> None:
    body = b'{"name": "x", "price": 1}'.ljust(MAX_BODY_BYTES)
    response = client.post(
        "/api/items",
        input_stream=io.BytesIO(body),
        content_type="application/json",
        environ_overrides={"wsgi.input_terminated": True},
        headers={"Transfer-Encoding": "chunked"},
    )
    assert response.status_code == 201


def test_chunked_valid_json_prefix_is_not_truncated_into_success(client: FlaskClient) -> None:
    body = b'{"name": "x", "price": 1}'.ljust(MAX_BODY_BYTES + 10)
    response = client.post(
        "/api/items",
        input_stream=io.BytesIO(body),
        content_type="application/json",
        environ_overrides={"wsgi.input_terminated": True},
        headers={"Transfer-Encoding": "chunked"},
    )
    assert response.status_code == 413
