"""Error handlers: status → code mapping, Allow index, validation-error translation."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.testclient import TestClient

from twinbench.apps.common.errors import ErrorCode
from twinbench.apps.common.models import ItemIn
from twinbench.apps.fastapi_app.errors import AllowIndex, ApiError, install_error_handlers

from .helpers import assert_error


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/things/{thing_id:int}")
    async def get_thing(thing_id: int) -> dict[str, int]:
        return {"id": thing_id}

    @app.delete("/things/{thing_id:int}")
    async def delete_thing(thing_id: int) -> None:
        raise ApiError(ErrorCode.NOT_FOUND)

    @app.post("/things")
    async def post_thing(item: ItemIn) -> dict[str, Any]:
        return item.model_dump()

    @app.get("/upstream")
    async def upstream() -> None:
        raise ApiError(ErrorCode.UPSTREAM_ERROR, [{"field": "x", "type": "t", "message": "m"}])

    install_error_handlers(app)
    return app


@pytest.fixture
def errors_client() -> TestClient:
    return TestClient(_app(), raise_server_exceptions=False)


def test_allow_index_unions_methods_across_routes() -> None:
    routes = [
        APIRoute("/a/{x:int}", lambda: None, methods=["GET", "HEAD"]),
        APIRoute("/a/{x:int}", lambda: None, methods=["PUT"]),
        APIRoute("/b", lambda: None, methods=["POST"]),
    ]
    index = AllowIndex(routes)
    assert index.allow("/a/5") == "GET, HEAD, PUT"
    assert index.allow("/b") == "POST"
    assert index.allow("/a/x") == ""


def test_api_error_carries_code_and_details(errors_client: TestClient) -> None:
    assert_error(errors_client.delete("/things/1"), 404, "not_found", [])
    response = errors_client.get("/upstream")
    assert_error(response, 502, "upstream_error", [{"field": "x", "type": "t", "message": "m"}])


def test_framework_404_and_405(errors_client: TestClient) -> None:
    assert_error(errors_client.get("/missing"), 404, "not_found", [])
    response = errors_client.put("/things/1")
    assert_error(response, 405, "method_not_allowed", [])
    assert response.headers["allow"] == "DELETE, GET"


def test_json_invalid_becomes_malformed_json(errors_client: TestClient) -> None:
    response = errors_client.post(
        "/things", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert_error(response, 400, "malformed_json", [])


def test_missing_body_becomes_malformed_json(errors_client: TestClient) -> None:
    response = errors_client.post("/things", headers={"content-type": "application/json"})
    assert_error(response, 400, "malformed_json", [])


def test_non_object_body_is_reported_like_model_validate(errors_client: TestClient) -> None:
    response = errors_client.post("/things", json=[{"name": "a"}])
    details = [
        {
            "field": "",
            "type": "model_type",
            "message": "Input should be a valid dictionary or instance of ItemIn",
        }
    ]
    assert_error(response, 422, "validation_error", details)


def test_query_and_path_prefixes_are_stripped(errors_client: TestClient) -> None:
    response = errors_client.post("/things", json={"name": "a", "price": -1})
    assert_error(response, 422, "validation_error")
    assert response.json()["error"]["details"][0]["field"] == "price"


def test_unmapped_http_status_keeps_the_shape() -> None:
    from starlette.exceptions import HTTPException

    app = _app()

    @app.get("/teapot")
    async def teapot() -> None:
        raise HTTPException(418, "I'm a teapot")

    response = TestClient(app).get("/teapot")
    assert response.status_code == 418
    assert response.json() == {
        "error": {"code": "http_418", "message": "I'm a teapot", "details": []}
    }
