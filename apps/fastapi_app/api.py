"""The JSON API: items CRUD, the upstream call and the CPU-bound endpoint.

Bodies and queries are validated by the shared Pydantic models (apps/common/models.py),
declared the idiomatic FastAPI way: `item: ItemIn` and `Annotated[Model, Query()]`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response, status
from starlette.convertors import Convertor, register_url_convertor
from typing_extensions import TypedDict

from twinbench.apps.common.cpu import cpu_work
from twinbench.apps.common.errors import ErrorCode, is_json_content_type
from twinbench.apps.common.ids import is_known_id, item_id_from_digits
from twinbench.apps.common.models import (
    CpuParams,
    Item,
    ItemIn,
    ItemPage,
    ListParams,
    UpstreamParams,
)

from .errors import ApiError
from .resources import DatabaseDep, ResourcesDep
from .routes import GET, RouteTable
from .upstream import UpstreamError, fetch_delay


class ItemIdConvertor(Convertor[int]):
    """`{item_id:item_id}`: ASCII digits of any length, as Starlette's `int` matches them.

    Starlette's `int` convertor calls `int()` on the whole match, which raises past 4300
    digits (a 500). An over-long id becomes NOT_AN_ID instead, and the handler answers 404,
    as the Flask twin's converter and view do. Anything but digits does not match: 404.
    """

    regex = "[0-9]+"

    def convert(self, value: str) -> int:
        return item_id_from_digits(value)

    def to_string(self, value: int) -> str:
        return str(value)


# Starlette's registry of path convertors is global; routes below look it up when declared.
register_url_convertor("item_id", ItemIdConvertor())


async def require_json(request: Request) -> None:
    """POST/PUT bodies must be declared JSON (application/json or */*+json): else 415."""
    if not is_json_content_type(request.headers.get("content-type")):
        raise ApiError(ErrorCode.UNSUPPORTED_MEDIA_TYPE)


def known_id(item_id: int) -> int:
    """An id outside 1..MAX_ID is not a known item: 404, without asking the database.

    Called in the handler, not as a dependency: FastAPI raises a dependency's error before
    it reports the body's validation errors, and the contract checks the body (400, 422)
    before the id (404), as the Flask twin does."""
    if not is_known_id(item_id):
        raise ApiError(ErrorCode.NOT_FOUND)
    return item_id


JsonBody = [Depends(require_json)]

routes = RouteTable(prefix="/api")

# Every JSON route declares its return type: FastAPI validates what the handler returns and
# serializes it with Pydantic straight to JSON bytes (in Rust), as its documentation advises.


@routes.api_route(
    "/items", methods=["POST"], status_code=status.HTTP_201_CREATED, dependencies=JsonBody
)
async def create_item(item: ItemIn, db: DatabaseDep) -> Item:
    return await db.create_item(item)


@routes.api_route("/items", methods=GET)
async def list_items(params: Annotated[ListParams, Query()], db: DatabaseDep) -> ItemPage:
    items = await db.list_items(params.limit, params.offset)
    return ItemPage(items=items, limit=params.limit, offset=params.offset)


@routes.api_route("/items/{item_id:item_id}", methods=GET)
async def get_item(item_id: int, db: DatabaseDep) -> Item:
    item = await db.get_item(known_id(item_id))
    if item is None:
        raise ApiError(ErrorCode.NOT_FOUND)
    return item


@routes.api_route("/items/{item_id:item_id}", methods=["PUT"], dependencies=JsonBody)
async def replace_item(item_id: int, item: ItemIn, db: DatabaseDep) -> Item:
    stored = await db.replace_item(known_id(item_id), item)
    if stored is None:
        raise ApiError(ErrorCode.NOT_FOUND)
    return stored


@routes.api_route(
    "/items/{item_id:item_id}", methods=["DELETE"], status_code=status.HTTP_204_NO_CONTENT
)
async def delete_item(item_id: int, db: DatabaseDep) -> Response:
    if not await db.delete_item(known_id(item_id)):
        raise ApiError(ErrorCode.NOT_FOUND)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# `Any`: the upstream's JSON is passed on as it is; Pydantic serializes it (no validation).
@routes.api_route("/upstream", methods=GET)
async def upstream(params: Annotated[UpstreamParams, Query()], resources: ResourcesDep) -> Any:
    try:
        return await fetch_delay(resources.http, resources.upstream_url, params.ms)
    except UpstreamError:
        raise ApiError(ErrorCode.UPSTREAM_ERROR) from None


# A plain `def`: cpu_work holds the GIL for n × ~0.3 µs (up to ~0.3 s at the maximum n).
# In `async def` that would stall the event loop and every other connection of the worker;
# in the threadpool the loop keeps accepting, reading and writing between GIL switches.
# It is FastAPI's documented rule for blocking work, and what a production team ships.
class CpuDigest(TypedDict):
    n: int
    digest: str


@routes.api_route("/cpu", methods=GET)
def cpu(params: Annotated[CpuParams, Query()]) -> CpuDigest:
    return {"n": params.n, "digest": cpu_work(params.n)}
