"""The Flask twin's views, ported to FastAPI signatures and nothing more: synchronous
functions over the Flask twin's own storage (sqlite3 / psycopg pool) and upstream client
(urllib3). `app.py` registers them either wrapped in `async def` or as they are."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any, cast

import jinja2
from fastapi import Depends, FastAPI, Query, Response, WebSocket, status
from fastapi.responses import HTMLResponse, PlainTextResponse
from starlette.requests import HTTPConnection

from twinbench.apps.common.cpu import cpu_work
from twinbench.apps.common.errors import ErrorCode
from twinbench.apps.common.fortunes import FORTUNES_TEMPLATE, with_extra_sorted
from twinbench.apps.common.models import (
    CpuParams,
    Item,
    ItemIn,
    ItemPage,
    ListParams,
    UpstreamParams,
)
from twinbench.apps.common.params import clamp_queries, random_id, random_ids, random_number
from twinbench.apps.common.settings import AppConfig
from twinbench.apps.fastapi_app.api import CpuDigest, known_id
from twinbench.apps.fastapi_app.db import World
from twinbench.apps.fastapi_app.errors import ApiError, error_response
from twinbench.apps.fastapi_app.health import Status
from twinbench.apps.fastapi_app.techempower import Message
from twinbench.apps.flask_app.db import Storage, open_storage
from twinbench.apps.flask_app.upstream import UpstreamClient, UpstreamError

PING_TIMEOUT_S = 2.0  # as the Flask twin's /health

_fortunes_template = jinja2.Environment(autoescape=True).from_string(FORTUNES_TEMPLATE)


@dataclass(frozen=True)
class Services:
    storage: Storage
    upstream: UpstreamClient
    worlds: dict[int, int]  # /cached-queries


def lifespan_for(config: AppConfig) -> Callable[[FastAPI], Any]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Services]]:
        storage = open_storage(config)
        upstream = UpstreamClient(config.upstream_url)
        try:
            worlds = {w.id: w.random_number for w in storage.all_worlds()}
            yield {"naive": Services(storage, upstream, worlds)}
        finally:
            upstream.close()
            storage.close()

    return lifespan


async def get_services(conn: HTTPConnection) -> Services:
    return cast(Services, conn.state.naive)


ServicesDep = Annotated[Services, Depends(get_services)]

# -- the handlers: the Flask views' bodies, with FastAPI's parameters ---------------------


def json_hello() -> Message:
    return {"message": "Hello, World!"}


def plaintext() -> PlainTextResponse:
    return PlainTextResponse(b"Hello, World!")


def single_query(services: ServicesDep) -> World:
    world = services.storage.world(random_id())
    if world is None:
        raise LookupError("world table is not seeded")
    return {"id": world.id, "randomNumber": world.random_number}


def multiple_queries(services: ServicesDep, queries: str | None = None) -> list[World]:
    worlds = services.storage.worlds(random_ids(clamp_queries(queries)))
    return [{"id": w.id, "randomNumber": w.random_number} for w in worlds]


def updates(services: ServicesDep, queries: str | None = None) -> list[World]:
    ids = random_ids(clamp_queries(queries))
    worlds = services.storage.update_worlds(ids, [random_number() for _ in ids])
    return [{"id": w.id, "randomNumber": w.random_number} for w in worlds]


def fortunes(services: ServicesDep) -> HTMLResponse:
    rows = with_extra_sorted(services.storage.fortunes())
    return HTMLResponse(_fortunes_template.render(fortunes=rows))


def cached_queries(services: ServicesDep, count: str | None = None) -> list[World]:
    worlds = services.worlds
    return [{"id": i, "randomNumber": worlds[i]} for i in random_ids(clamp_queries(count))]


def create_item(item: ItemIn, services: ServicesDep) -> Item:
    return services.storage.create_item(item)


def list_items(params: Annotated[ListParams, Query()], services: ServicesDep) -> ItemPage:
    items = services.storage.list_items(params.limit, params.offset)
    return ItemPage(items=items, limit=params.limit, offset=params.offset)


def get_item(item_id: int, services: ServicesDep) -> Item:
    item = services.storage.get_item(known_id(item_id))
    if item is None:
        raise ApiError(ErrorCode.NOT_FOUND)
    return item


def replace_item(item_id: int, item: ItemIn, services: ServicesDep) -> Item:
    stored = services.storage.replace_item(known_id(item_id), item)
    if stored is None:
        raise ApiError(ErrorCode.NOT_FOUND)
    return stored


def delete_item(item_id: int, services: ServicesDep) -> Response:
    if not services.storage.delete_item(known_id(item_id)):
        raise ApiError(ErrorCode.NOT_FOUND)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def upstream(params: Annotated[UpstreamParams, Query()], services: ServicesDep) -> Any:
    try:
        return services.upstream.delay(params.ms)
    except UpstreamError:
        raise ApiError(ErrorCode.UPSTREAM_ERROR) from None


def cpu(params: Annotated[CpuParams, Query()]) -> CpuDigest:
    return {"n": params.n, "digest": cpu_work(params.n)}


def health(services: ServicesDep) -> Status:
    try:
        services.storage.ping(PING_TIMEOUT_S)
    except Exception:  # any driver or pool error means "not ready", never a 500
        raise ApiError(ErrorCode.NOT_READY) from None
    if not services.upstream.is_open:
        raise ApiError(ErrorCode.NOT_READY)
    return {"status": "ok"}


async def websocket_not_ported(websocket: WebSocket) -> None:
    """The contract's 501 for a target without WebSocket (none was ported)."""
    response = error_response(ErrorCode.NOT_IMPLEMENTED)
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(response)
    else:
        await websocket.close(code=1011)
