"""TechEmpower Framework Benchmarks endpoints.

The JSON endpoints declare their return types and return plain data: FastAPI then validates
it with Pydantic and serializes it straight to JSON bytes in Rust (FastAPI ≥ 0.130's fast
path, which its documentation recommends over returning a JSONResponse or the deprecated
ORJSONResponse/UJSONResponse). /plaintext and /fortunes are not JSON and return their
Response directly.
"""

from __future__ import annotations

import jinja2
from fastapi.responses import HTMLResponse, PlainTextResponse
from typing_extensions import TypedDict

from twinbench.apps.common.fortunes import FORTUNES_TEMPLATE, with_extra_sorted
from twinbench.apps.common.params import clamp_queries, random_id, random_ids, random_number

from .db import World
from .resources import DatabaseDep, ResourcesDep
from .routes import GET, RouteTable

routes = RouteTable()

# Compiled once; autoescape is what makes fortune 11's <script> harmless.
_fortunes_template = jinja2.Environment(autoescape=True).from_string(FORTUNES_TEMPLATE)


class Message(TypedDict):
    message: str


@routes.api_route("/json", methods=GET)
async def json_hello() -> Message:
    return {"message": "Hello, World!"}


@routes.api_route("/plaintext", methods=GET)
async def plaintext() -> PlainTextResponse:
    return PlainTextResponse(b"Hello, World!")


@routes.api_route("/db", methods=GET)
async def single_query(db: DatabaseDep) -> World:
    return await db.get_world(random_id())


@routes.api_route("/queries", methods=GET)
async def multiple_queries(db: DatabaseDep, queries: str | None = None) -> list[World]:
    # A plain string: TechEmpower's count never fails validation, it clamps.
    return await db.get_worlds(random_ids(clamp_queries(queries)))


@routes.api_route("/updates", methods=GET)
async def updates(db: DatabaseDep, queries: str | None = None) -> list[World]:
    ids = random_ids(clamp_queries(queries))
    numbers = [random_number() for _ in ids]
    return await db.update_worlds(ids, numbers)


@routes.api_route("/fortunes", methods=GET)
async def fortunes(db: DatabaseDep) -> HTMLResponse:
    rows = with_extra_sorted(await db.fortunes())
    return HTMLResponse(_fortunes_template.render(fortunes=rows))


@routes.api_route("/cached-queries", methods=GET)
async def cached_queries(resources: ResourcesDep, count: str | None = None) -> list[World]:
    worlds = resources.worlds
    ids = random_ids(clamp_queries(count))
    return [{"id": id_, "randomNumber": worlds[id_]} for id_ in ids]
