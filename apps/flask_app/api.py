"""The JSON API: items CRUD, the upstream call and the CPU-bound endpoint."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from werkzeug.routing import BaseConverter

from twinbench.apps.common.cpu import cpu_work
from twinbench.apps.common.errors import ErrorCode
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
from .state import services
from .upstream import UpstreamError
from .validation import parse_json_body, parse_query

bp = Blueprint("api", __name__, url_prefix="/api")


class ItemIdConverter(BaseConverter):
    """ASCII digits only, of any length (werkzeug's `int` also takes other Unicode digits,
    Starlette's does not); anything else does not match the route at all: 404.

    Not werkzeug's IntegerConverter: its `int()` fails past 4300 digits, and werkzeug then
    drops the rule, so GET said 404 but PUT and DELETE 405. An over-long id becomes
    NOT_AN_ID instead, and the view answers 404 for every method, after the body check."""

    regex = r"[0-9]+"

    def to_python(self, value: str) -> int:
        return item_id_from_digits(value)

    def to_url(self, value: int) -> str:
        return str(value)


def _known_id(item_id: int) -> int:
    """An id outside 1..MAX_ID is simply not a known item: 404, without asking the database.
    Checked in the view (after body validation), where a missing id would be found too."""
    if not is_known_id(item_id):
        raise ApiError(ErrorCode.NOT_FOUND)
    return item_id


def _item_response(item: Item | None, status: int = 200) -> Response:
    if item is None:
        raise ApiError(ErrorCode.NOT_FOUND)
    response = jsonify(item)  # the JSON provider serializes the model itself
    response.status_code = status
    return response


@bp.post("/items")
def create_item() -> Response:
    item = parse_json_body(ItemIn)
    return _item_response(services().storage.create_item(item), 201)


@bp.get("/items")
def list_items() -> Response:
    params = parse_query(ListParams)
    items = services().storage.list_items(params.limit, params.offset)
    return jsonify(ItemPage(items=items, limit=params.limit, offset=params.offset))


@bp.get("/items/<item_id:item_id>")
def get_item(item_id: int) -> Response:
    return _item_response(services().storage.get_item(_known_id(item_id)))


@bp.put("/items/<item_id:item_id>")
def replace_item(item_id: int) -> Response:
    item = parse_json_body(ItemIn)
    return _item_response(services().storage.replace_item(_known_id(item_id), item))


@bp.delete("/items/<item_id:item_id>")
def delete_item(item_id: int) -> Response:
    if not services().storage.delete_item(_known_id(item_id)):
        raise ApiError(ErrorCode.NOT_FOUND)
    return Response(status=204)


@bp.get("/upstream")
def upstream() -> Response:
    params = parse_query(UpstreamParams)
    try:
        body = services().upstream.delay(params.ms)
    except UpstreamError as exc:
        current_app.logger.warning("%s", exc)
        raise ApiError(ErrorCode.UPSTREAM_ERROR) from exc
    return jsonify(body)


@bp.get("/cpu")
def cpu() -> Response:
    params = parse_query(CpuParams)
    return jsonify(n=params.n, digest=cpu_work(params.n))
