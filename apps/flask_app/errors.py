"""Every 4xx/5xx the Flask twin sends carries the contract's JSON error body.

Views raise `ApiError`; werkzeug's HTTP exceptions (routing 404/405, 413 from
MAX_CONTENT_LENGTH, ...) and anything unexpected are translated here, in one place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge
from werkzeug.routing import WebsocketMismatch

from twinbench.apps.common.errors import MAX_BODY_BYTES, ErrorCode, error_body
from twinbench.apps.common.pools import PoolExhausted

from .body import drain_unread_body

# CONTENT_LENGTH values that mean "no body" (the server's environ).
_NO_LENGTH = (None, "", "0")
# A status the framework raises maps to the code it means there (a 400 is a body that could not
# be parsed, never a WebSocket handshake: that one is raised by name).
_BY_STATUS = {code.status: code for code in ErrorCode if code is not ErrorCode.BAD_HANDSHAKE}


class ApiError(Exception):
    """Raised by views for a contract error; rendered by `register_error_handlers`."""

    def __init__(
        self,
        code: ErrorCode,
        details: Sequence[Mapping[str, Any]] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(code.code)
        self.code = code
        self.details = details
        self.headers = headers or {}


def error_response(
    code: ErrorCode,
    details: Sequence[Mapping[str, Any]] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    response = jsonify(error_body(code, details))
    response.status_code = code.status
    if headers:
        response.headers.update(headers)
    return response


def _other_error(status: int, name: str) -> Response:
    """Same body shape for a status ErrorCode has no member for (e.g. 500, 414, 431)."""
    code = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    response = jsonify({"error": {"code": code, "message": name, "details": []}})
    response.status_code = status
    return response


def _handle_api_error(exc: ApiError) -> Response:
    return error_response(exc.code, exc.details, exc.headers)


def _only_websockets_here() -> bool:
    """Whether the request's path is served by WebSocket rules alone.

    werkzeug answers `POST /ws/echo` with a 405 (the WebSocket rule is a GET); Starlette,
    which routes HTTP and WebSocket separately, finds no HTTP route there: 404. The contract
    says 404 for any method on a WebSocket-only path, so a 405 is re-checked here (only on
    that error path): if even a GET matches nothing but WebSocket rules, it is a 404."""
    adapter = current_app.create_url_adapter(request)
    if adapter is None:
        return False
    try:
        adapter.match(method="GET", websocket=False)
    except WebsocketMismatch:
        return True
    except HTTPException:
        return False
    return False


def _handle_http_exception(exc: HTTPException) -> Response:
    if isinstance(exc, WebsocketMismatch) or (
        isinstance(exc, MethodNotAllowed) and _only_websockets_here()
    ):
        # A plain HTTP request to a WebSocket-only path: there is no HTTP resource there.
        return error_response(ErrorCode.NOT_FOUND)
    status = exc.code or 500
    code = _BY_STATUS.get(status)
    response = error_response(code) if code else _other_error(status, exc.name)
    # Keep the exception's own headers that matter, notably `Allow` on a 405.
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _handle_pool_exhausted(exc: PoolExhausted) -> Response:
    # Overload, not a bug: the contract's 503, without a traceback in the error log.
    return error_response(ErrorCode.UNAVAILABLE)


def _handle_unexpected(exc: Exception) -> Response:
    current_app.logger.exception("unhandled error", exc_info=exc)
    return error_response(ErrorCode.INTERNAL_ERROR)


def check_content_length() -> None:
    """before_request hook: reject a declared oversized body before routing or reading it.

    Flask runs before_request hooks before it raises a routing 404/405, so an oversized
    `Content-Length` is a 413 on any path, as it is for a size-limiting middleware. A chunked
    body has no length up front; werkzeug's MAX_CONTENT_LENGTH stream limit catches it on read.
    """
    # The environ first: a request without a body (most) costs one dict lookup, not a parse.
    if request.environ.get("CONTENT_LENGTH") in _NO_LENGTH:
        return
    length = request.content_length
    if length is not None and length > MAX_BODY_BYTES:
        raise RequestEntityTooLarge()


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(ApiError, _handle_api_error)
    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(PoolExhausted, _handle_pool_exhausted)
    app.register_error_handler(Exception, _handle_unexpected)
    app.before_request(check_content_length)
    app.after_request(drain_unread_body)
