"""Exception handlers that give every error the contract's one JSON body.

Handlers only translate; they never log or inspect the body, so a bad request costs the
same as in the Flask twin.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute

from twinbench.apps.common.errors import ErrorCode, error_body, validation_details
from twinbench.apps.common.pools import PoolExhausted


class ApiError(Exception):
    """Raised by handlers and dependencies for a contract error (not_found, upstream_error...)."""

    def __init__(self, code: ErrorCode, details: Sequence[Mapping[str, Any]] = ()) -> None:
        super().__init__(code.code)
        self.code = code
        self.details = details


INTERNAL_ERROR_BODY = error_body(ErrorCode.INTERNAL_ERROR)

# A status the framework raises maps to the code it means there (a 400 is a body that could not
# be parsed, never a WebSocket handshake: that one is raised by name).
_BY_STATUS = {code.status: code for code in ErrorCode if code is not ErrorCode.BAD_HANDSHAKE}

ExceptionHandler = Callable[[Request, Exception], Awaitable[JSONResponse]]


def error_response(
    code: ErrorCode,
    details: Sequence[Mapping[str, Any]] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(code, details), status_code=code.status, headers=headers)


class AllowIndex:
    """Every method any route serves at a path, for the 405's Allow header.

    The router's own Allow header lists only the first route whose path matched, so
    `POST /api/items/1` would advertise GET and HEAD but not PUT and DELETE. Built from the
    app's public (flat) route list when the app is made; consulted only when answering a 405.
    """

    def __init__(self, routes: Iterable[BaseRoute]) -> None:
        self._routes = [
            (route.path_regex, frozenset(route.methods or ()))
            for route in routes
            if isinstance(route, APIRoute)
        ]

    def allow(self, path: str) -> str:
        methods: set[str] = set()
        for regex, route_methods in self._routes:
            if regex.match(path):
                methods |= route_methods
        return ", ".join(sorted(methods))


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.code, exc.details)


def _http_error_handler(allow: AllowIndex) -> ExceptionHandler:
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        """Framework-raised errors: unknown path (404), wrong method (405), body limit (413)."""
        assert isinstance(exc, StarletteHTTPException)
        code = _BY_STATUS.get(exc.status_code)
        if code is None:  # none the framework raises for this app; keep the shape anyway
            error = {"code": f"http_{exc.status_code}", "message": exc.detail, "details": []}
            return JSONResponse({"error": error}, status_code=exc.status_code, headers=exc.headers)
        if code is ErrorCode.METHOD_NOT_ALLOWED:
            return error_response(code, headers={"Allow": allow.allow(request.url.path)})
        return error_response(code)

    return handle


def _is_missing_body(errors: Sequence[Any]) -> bool:
    # FastAPI reports an empty body as the whole body missing; the contract calls it malformed.
    return any(err["type"] == "missing" and tuple(err["loc"]) == ("body",) for err in errors)


def _as_plain_model_errors(request: Request, errors: Sequence[Any]) -> list[Any]:
    """Report a body that is not an object the way `Model.model_validate(body)` does.

    FastAPI validates bodies with `from_attributes=True`, so a JSON list or scalar body is a
    `model_attributes_type` error ("...object to extract fields from"); the Flask twin's
    plain `ItemIn.model_validate(obj)` calls it `model_type` ("...instance of ItemIn").
    Re-validating that one input with the route's own body model gives the identical error.
    """
    body_field = getattr(request.scope.get("route"), "body_field", None)
    model = getattr(getattr(body_field, "field_info", None), "annotation", None)
    result: list[Any] = []
    for err in errors:
        if (
            err["type"] == "model_attributes_type"
            and tuple(err["loc"]) == ("body",)
            and isinstance(model, type)
            and issubclass(model, BaseModel)
        ):
            try:
                model.model_validate(err["input"])
            except ValidationError as plain:
                result.extend({**e, "loc": ("body", *e["loc"])} for e in plain.errors())
                continue
        result.append(err)
    return result


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _as_plain_model_errors(request, exc.errors())
    if any(err["type"] == "json_invalid" for err in errors) or _is_missing_body(errors):
        return error_response(ErrorCode.MALFORMED_JSON)
    return error_response(ErrorCode.VALIDATION_ERROR, validation_details(errors))


async def _pool_exhausted(request: Request, exc: Exception) -> JSONResponse:
    # Overload, not a bug: the contract's 503 (Starlette logs no traceback for a handled error).
    return error_response(ErrorCode.UNAVAILABLE)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Reached only through a bug; the server's error log still gets the traceback.
    return JSONResponse(INTERNAL_ERROR_BODY, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    """Call once every route is added: the 405's Allow index is built from `app.routes`."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error_handler(AllowIndex(app.routes)))
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(PoolExhausted, _pool_exhausted)
    app.add_exception_handler(Exception, _unexpected)
