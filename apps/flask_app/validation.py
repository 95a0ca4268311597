"""Request parsing for the JSON API and SSE: the same Pydantic models and error details as the
FastAPI twin, which validates JSON bodies in Python mode after `json.loads`, exactly as here."""

from __future__ import annotations

import json
from typing import Annotated, Any, TypeVar

from flask import request
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from twinbench.apps.common.errors import ErrorCode, is_json_content_type, validation_details

from .body import read_body
from .errors import ApiError

M = TypeVar("M", bound=BaseModel)

# Last-Event-ID is validated by Pydantic, so its error type and message are Pydantic's.
_LAST_EVENT_ID: TypeAdapter[int] = TypeAdapter(Annotated[int, Field(ge=0)])
LAST_EVENT_ID_HEADER = "Last-Event-ID"


def query_args() -> dict[str, str]:
    """The query string as a flat dict; a repeated parameter keeps its *last* value, as
    Starlette (and so FastAPI) does, so that `?limit=5&limit=500` means the same in both twins."""
    return {key: values[-1] for key, values in request.args.lists()}


def last_arg(name: str) -> str | None:
    values = request.args.getlist(name)
    return values[-1] if values else None


def query_errors(model: type[M]) -> tuple[M | None, list[dict[str, str]]]:
    """Validate the query against `model`; return the model or the contract's details."""
    try:
        return model.model_validate(query_args()), []
    except ValidationError as exc:
        return None, validation_details(exc.errors())


def parse_query(model: type[M]) -> M:
    parsed, details = query_errors(model)
    if parsed is None:
        raise ApiError(ErrorCode.VALIDATION_ERROR, details)
    return parsed


def last_event_id_errors() -> tuple[int, list[dict[str, str]]]:
    """The Last-Event-ID header (0 when absent), or details naming the header as the field."""
    raw = request.headers.get(LAST_EVENT_ID_HEADER)
    if raw is None:
        return 0, []
    try:
        return _LAST_EVENT_ID.validate_python(raw), []
    except ValidationError as exc:
        details = validation_details(exc.errors())
        for detail in details:
            detail["field"] = LAST_EVENT_ID_HEADER
        return 0, details


def parse_json_body(model: type[M]) -> M:
    """415 without a JSON content type, 413 past 1 MiB, 400 for anything `json.loads`
    refuses, 422 from `model`."""
    if not is_json_content_type(request.headers.get("Content-Type")):
        raise ApiError(ErrorCode.UNSUPPORTED_MEDIA_TYPE)
    raw = read_body()
    try:
        obj: Any = json.loads(raw)
    except (ValueError, RecursionError):
        # ValueError covers JSONDecodeError and undecodable bytes; RecursionError is
        # pathologically deep nesting, which is not JSON this service can accept either.
        raise ApiError(ErrorCode.MALFORMED_JSON) from None
    try:
        return model.model_validate(obj)
    except ValidationError as exc:
        raise ApiError(ErrorCode.VALIDATION_ERROR, validation_details(exc.errors())) from None
