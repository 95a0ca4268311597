"""Request body I/O: the 1 MiB read limit and draining unread bodies."""

from __future__ import annotations

import io

import pytest
from flask import Flask, Response
from flask.ctx import RequestContext
from werkzeug.exceptions import RequestEntityTooLarge

from twinbench.apps.common.errors import MAX_BODY_BYTES
from twinbench.apps.flask_app.body import DRAIN_LIMIT, drain_unread_body, read_body


def _chunked_stream(app: Flask, stream: io.BytesIO) -> RequestContext:
    return app.test_request_context(
        "/",
        method="POST",
        input_stream=stream,
        environ_overrides={"wsgi.input_terminated": True},
        headers={"Transfer-Encoding": "chunked"},
    )


def _chunked(app: Flask, body: bytes) -> RequestContext:
    return _chunked_stream(app, io.BytesIO(body))


def test_read_body_with_content_length(app: Flask) -> None:
    with app.test_request_context("/", method="POST", data=b"abc"):
        assert read_body() == b"abc"


def test_read_chunked_body_up_to_the_limit(app: Flask) -> None:
    with _chunked(app, b"x" * MAX_BODY_BYTES):
        assert len(read_body()) == MAX_BODY_BYTES
    with _chunked(app, b"x" * (MAX_BODY_BYTES + 1)), pytest.raises(RequestEntityTooLarge):
        read_body()


def test_drain_consumes_an_unread_body(app: Flask) -> None:
    stream = io.BytesIO(b"y" * 100_000)
    with app.test_request_context(
        "/", method="POST", input_stream=stream, headers={"Content-Length": "100000"}
    ):
        response = Response("x")
        assert drain_unread_body(response) is response
    assert stream.tell() == 100_000


def test_drain_leaves_oversized_bodies_alone(app: Flask) -> None:
    size = DRAIN_LIMIT + 1
    for terminated in ({}, {"wsgi.input_terminated": True}):
        stream = io.BytesIO(b"y" * size)
        with app.test_request_context(
            "/",
            method="POST",
            input_stream=stream,
            headers={"Content-Length": str(size)},
            environ_overrides=terminated,
        ):
            drain_unread_body(Response("x"))
        assert stream.tell() == 0


def test_drain_reads_a_bounded_overflow_when_the_server_terminates_the_stream(
    app: Flask,
) -> None:
    size = MAX_BODY_BYTES + 100_000  # a 413 by Content-Length, but worth keeping the connection
    stream = io.BytesIO(b"y" * size)
    with app.test_request_context(
        "/",
        method="POST",
        input_stream=stream,
        headers={"Content-Length": str(size)},
        environ_overrides={"wsgi.input_terminated": True},
    ):
        drain_unread_body(Response("x"))
    assert stream.tell() == size


def test_drain_chunked_rest_after_a_413(app: Flask) -> None:
    stream = io.BytesIO(b" " * (MAX_BODY_BYTES + 200_000))
    with _chunked_stream(app, stream):
        with pytest.raises(RequestEntityTooLarge):
            read_body()
        drain_unread_body(Response("x"))
    assert stream.tell() == MAX_BODY_BYTES + 200_000


def test_drain_chunked_is_bounded(app: Flask) -> None:
    stream = io.BytesIO(b" " * (3 * DRAIN_LIMIT))
    with _chunked_stream(app, stream):
        drain_unread_body(Response("x"))
    assert stream.tell() == DRAIN_LIMIT


def test_no_body_no_read(app: Flask) -> None:
    class Exploding(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            raise AssertionError("must not read")

    with app.test_request_context(
        "/", input_stream=Exploding(), environ_overrides={"wsgi.input_terminated": True}
    ):
        drain_unread_body(Response("x"))


def test_unsupported_media_type_body_is_drained(app: Flask) -> None:
    stream = io.BytesIO(b"z" * 70_000)
    response = app.test_client().post(
        "/api/items",
        input_stream=stream,
        content_type="text/plain",
        headers={"Content-Length": "70000"},
    )
    assert response.status_code == 415
    assert stream.tell() == 70_000


class InvalidChunkSize(Exception):
    """Like gunicorn's: a ParseException subclass, not an OSError."""


class _BadChunks(io.BytesIO):
    """What gunicorn's body reader does on a malformed chunk size: raise from read()."""

    def read(self, size: int | None = -1) -> bytes:
        raise InvalidChunkSize("Invalid chunk size: b'zz'")

    def readline(self, size: int | None = -1) -> bytes:
        raise InvalidChunkSize("Invalid chunk size: b'zz'")


def test_a_body_the_server_cannot_decode_is_400_malformed_json(app: Flask) -> None:
    # It was a 500 with a traceback under gunicorn (its InvalidChunkSize escaped the view).
    client = app.test_client()
    response = client.post(
        "/api/items",
        input_stream=_BadChunks(),
        environ_overrides={"wsgi.input_terminated": True},
        headers={"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "malformed_json"


def test_draining_a_body_the_server_cannot_decode_is_not_an_error(app: Flask) -> None:
    with _chunked_stream(app, _BadChunks()):
        response = Response("x")
        assert drain_unread_body(response) is response
