"""TechEmpower Framework Benchmarks endpoints, written the way TFB's FastAPI entry is.

These return Response objects directly, as TFB's FastAPI entry does: FastAPI then skips
`jsonable_encoder`. The JSON encoder is still Starlette's JSONResponse (stdlib `json`).
"""

from __future__ import annotations

import jinja2
from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse

from twinbench.apps.common.fortunes import FORTUNES_TEMPLATE, with_extra_sorted
from twinbench.apps.common.params import clamp_queries, random_id, random_ids, random_number

from .resources import DatabaseDep, ResourcesDep
from .routes import GET

router = APIRouter()

# Compiled once; autoescape is what makes fortune 11's <script> harmless.
_fortunes_template = jinja2.Environment(autoescape=True).from_string(FORTUNES_TEMPLATE)


@router.api_route("/json", methods=GET)
async def json_hello() -> JSONResponse:
    return JSONResponse({"message": "Hello, World!"})


@router.api_route("/plaintext", methods=GET)
async def plaintext() -> PlainTextResponse:
    return PlainTextResponse(b"Hello, World!")


@router.api_route("/db", methods=GET)
async def single_query(db: DatabaseDep) -> JSONResponse:
    return JSONResponse(await db.get_world(random_id()))


@router.api_route("/queries", methods=GET)
async def multiple_queries(db: DatabaseDep, queries: str | None = None) -> JSONResponse:
    # A plain string: TechEmpower's count never fails validation, it clamps.
    return JSONResponse(await db.get_worlds(random_ids(clamp_queries(queries))))


@router.api_route("/updates", methods=GET)
async def updates(db: DatabaseDep, queries: str | None = None) -> JSONResponse:
    ids = random_ids(clamp_queries(queries))
    numbers = [random_number() for _ in ids]
    return JSONResponse(await db.update_worlds(ids, numbers))


@router.api_route("/fortunes", methods=GET)
async def fortunes(db: DatabaseDep) -> HTMLResponse:
    rows = with_extra_sorted(await db.fortunes())
    return HTMLResponse(_fortunes_template.render(fortunes=rows))


@router.api_route("/cached-queries", methods=GET)
async def cached_queries(resources: ResourcesDep, count: str | None = None) -> JSONResponse:
    worlds = resources.worlds
    ids = random_ids(clamp_queries(count))
    return JSONResponse([{"id": id_, "randomNumber": worlds[id_]} for id_ in ids])
