"""apps/fastapi_app/routes.py: flat routes (no included-router node) and the fast JSON path."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.testclient import TestClient

from twinbench.apps.common.settings import AppConfig
from twinbench.apps.fastapi_app import create_app
from twinbench.apps.fastapi_app.routes import GET, RouteTable

# Every JSON path operation of the twin declares a return type (not a Response), so FastAPI
# serializes it with Pydantic to JSON bytes; these return Responses on purpose (text, HTML,
# a stream, DELETE's empty 204).
NOT_JSON = {"/plaintext", "/fortunes", "/sse/stream"}


def test_route_table_adds_flat_routes_with_prefix_and_options() -> None:
    table = RouteTable(prefix="/p")

    @table.api_route("/a", methods=GET, status_code=202)
    async def a() -> dict[str, int]:
        return {"x": 1}

    @table.websocket("/w")
    async def w() -> None:  # pragma: no cover - never connected here
        return None

    assert table.paths == ["/p/a", "/p/w"]
    app = FastAPI()
    table.add_to(app)
    routes = {getattr(r, "path", None): r for r in app.routes}
    assert isinstance(routes["/p/a"], APIRoute)
    assert routes["/p/a"].methods == {"GET", "HEAD"}
    assert routes["/p/a"].status_code == 202
    assert isinstance(routes["/p/w"], APIWebSocketRoute)
    response = TestClient(app).get("/p/a")
    assert (response.status_code, response.content) == (202, b'{"x":1}')


def test_the_twin_has_only_flat_routes(config: AppConfig) -> None:
    app = create_app(config)
    # No lazily included router (FastAPI >= 0.137 resolves those on every request).
    assert all(isinstance(r, APIRoute | APIWebSocketRoute) for r in app.routes), app.routes
    paths = {r.path for r in app.routes if isinstance(r, APIRoute | APIWebSocketRoute)}
    assert {"/json", "/db", "/api/items", "/ws/echo", "/health"} <= paths


def test_json_routes_take_pydantics_serializer(config: AppConfig) -> None:
    app = create_app(config)
    for route in app.routes:
        if (
            isinstance(route, APIRoute)
            and route.path not in NOT_JSON
            and "DELETE" not in route.methods
        ):
            # A response field and the default response class: FastAPI's dump_json path.
            assert route.response_field is not None, route.path
            assert route.response_class.__class__.__name__ == "DefaultPlaceholder", route.path


def test_json_bodies_are_compact_in_declared_order(client: TestClient) -> None:
    assert client.get("/json").content == b'{"message":"Hello, World!"}'
    body = client.get("/db").content
    assert body.startswith(b'{"id":') and b',"randomNumber":' in body
    assert client.get("/health").content == b'{"status":"ok"}'
    cpu = client.get("/api/cpu?n=1")
    assert cpu.content.startswith(b'{"n":1,"digest":"')
