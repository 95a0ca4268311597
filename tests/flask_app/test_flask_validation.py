"""Request parsing: content type, JSON decoding, Pydantic details, Last-Event-ID."""

from __future__ import annotations

import pytest
from flask import Flask
from pydantic import BaseModel

from twinbench.apps.common.models import ItemIn, ListParams
from twinbench.apps.flask_app.errors import ApiError
from twinbench.apps.flask_app.validation import (
    last_event_id_errors,
    parse_json_body,
    parse_query,
    query_args,
)


class _Probe(BaseModel):
    a: int


def _body_error(app: Flask, data: bytes, content_type: str | None) -> ApiError:
    headers = {"Content-Type": content_type} if content_type else {}
    with (
        app.test_request_context("/", method="POST", data=data, headers=headers),
        pytest.raises(ApiError) as caught,
    ):
        parse_json_body(ItemIn)
    return caught.value


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "application/jsonx", "json"],
)
def test_non_json_content_type_is_415(app: Flask, content_type: str | None) -> None:
    assert _body_error(app, b"{}", content_type).code.status == 415


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "application/merge-patch+json",
    ],
)
def test_json_content_types_accepted(app: Flask, content_type: str) -> None:
    with app.test_request_context(
        "/",
        method="POST",
        data=b'{"name": "n", "price": 0}',
        headers={"Content-Type": content_type},
    ):
        assert parse_json_body(ItemIn) == ItemIn(name="n", price=0)


@pytest.mark.parametrize("data", [b"", b"{", b"{'a': 1}", b"\xff\xfe\x00", b"[" * 100_000])
def test_malformed_json_is_400(app: Flask, data: bytes) -> None:
    error = _body_error(app, data, "application/json")
    assert (error.code.status, error.code.code) == (400, "malformed_json")
    assert error.details == ()


def test_json_is_validated_in_python_mode(app: Flask) -> None:
    # Python-mode validation of what json.loads made, like FastAPI: a JSON int is a price.
    with app.test_request_context(
        "/", method="POST", data=b'{"name": "n", "price": 2}', content_type="application/json"
    ):
        assert parse_json_body(ItemIn).price == 2.0
    error = _body_error(app, b'{"name": "n", "price": NaN}', "application/json")
    assert error.code.status == 422
    assert list(error.details) == [
        {"field": "price", "type": "finite_number", "message": "Input should be a finite number"}
    ]


def test_repeated_query_parameter_keeps_the_last_value(app: Flask) -> None:
    with app.test_request_context("/?limit=5&limit=7&offset=1"):
        assert query_args() == {"limit": "7", "offset": "1"}
        assert parse_query(ListParams) == ListParams(limit=7, offset=1)


def test_unknown_query_parameters_are_ignored(app: Flask) -> None:
    with app.test_request_context("/?a=3&zzz=1"):
        assert parse_query(_Probe).a == 3


@pytest.mark.parametrize(("header", "expected"), [(None, 0), ("0", 0), ("17", 17), ("+3", 3)])
def test_last_event_id_valid(app: Flask, header: str | None, expected: int) -> None:
    headers = {"Last-Event-ID": header} if header is not None else {}
    with app.test_request_context("/", headers=headers):
        assert last_event_id_errors() == (expected, [])


@pytest.mark.parametrize(
    ("header", "type_", "message"),
    [
        ("-1", "greater_than_equal", "Input should be greater than or equal to 0"),
        (
            "x",
            "int_parsing",
            "Input should be a valid integer, unable to parse string as an integer",
        ),
        (
            "",
            "int_parsing",
            "Input should be a valid integer, unable to parse string as an integer",
        ),
        (
            "1.5",
            "int_parsing",
            "Input should be a valid integer, unable to parse string as an integer",
        ),
    ],
)
def test_last_event_id_invalid(app: Flask, header: str, type_: str, message: str) -> None:
    with app.test_request_context("/", headers={"Last-Event-ID": header}):
        assert last_event_id_errors() == (
            0,
            [{"field": "Last-Event-ID", "type": type_, "message": message}],
        )
