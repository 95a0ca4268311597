"""The one error body both twins send for every 4xx/5xx they produce on purpose."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

# Pydantic prefixes FastAPI's error locations with where the value came from; the contract's
# `field` is the location *within* that source, so both twins strip these.
_SOURCES = frozenset({"body", "query", "path", "header"})


class ErrorCode(enum.Enum):
    MALFORMED_JSON = ("malformed_json", 400, "Request body is not valid JSON")
    VALIDATION_ERROR = ("validation_error", 422, "Request validation failed")
    UNSUPPORTED_MEDIA_TYPE = (
        "unsupported_media_type",
        415,
        "Content-Type must be application/json",
    )
    NOT_FOUND = ("not_found", 404, "Not found")
    METHOD_NOT_ALLOWED = ("method_not_allowed", 405, "Method not allowed")
    PAYLOAD_TOO_LARGE = ("payload_too_large", 413, "Request body is larger than 1 MiB")
    UPSTREAM_ERROR = ("upstream_error", 502, "Upstream call failed")
    NOT_READY = ("not_ready", 503, "Service is not ready")
    # Every pooled database connection stayed busy for the whole acquire timeout.
    UNAVAILABLE = ("unavailable", 503, "No database connection became free in time")
    # A WebSocket handshake that RFC 6455 says to refuse (apps/common/handshake.py).
    BAD_HANDSHAKE = ("bad_handshake", 400, "Malformed WebSocket handshake")
    # A WebSocket handshake to a server configuration that cannot hold one.
    NOT_IMPLEMENTED = (
        "not_implemented",
        501,
        "This server configuration cannot upgrade connections to WebSocket",
    )
    # Never meant to happen; the body shape holds even then.
    INTERNAL_ERROR = ("internal_error", 500, "Internal server error")

    def __init__(self, code: str, status: int, message: str) -> None:
        self.code = code
        self.status = status
        self.message = message


MAX_BODY_BYTES = 1024 * 1024


def error_body(code: ErrorCode, details: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    return {"error": {"code": code.code, "message": code.message, "details": list(details)}}


def validation_details(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Pydantic errors (`exc.errors()`) → the contract's `details` list, source-independent."""
    details = []
    for err in errors:
        loc = list(err.get("loc", ()))
        if loc and loc[0] in _SOURCES:
            loc = loc[1:]
        details.append(
            {
                "field": ".".join(str(part) for part in loc),
                "type": str(err.get("type", "")),
                "message": str(err.get("msg", "")),
            }
        )
    return details


def is_json_content_type(value: str | None) -> bool:
    """True for application/json and any */*+json, with or without parameters."""
    if not value:
        return False
    mime = value.split(";", 1)[0].strip().lower()
    return mime == "application/json" or (
        mime.startswith("application/") and mime.endswith("+json")
    )
