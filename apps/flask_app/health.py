"""GET /health: ready once the database answers and the upstream client is open."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from twinbench.apps.common.errors import ErrorCode

from .errors import error_response
from .state import services

bp = Blueprint("health", __name__)

PING_TIMEOUT_S = 2.0  # a health check must answer quickly, not wait out the pool's 30 s


@bp.get("/health")
def health() -> Response:
    found = services()
    try:
        found.storage.ping(PING_TIMEOUT_S)
    except Exception as exc:  # any driver or pool error means "not ready", never a 500
        current_app.logger.warning("health: database not ready: %r", exc)
        return error_response(ErrorCode.NOT_READY)
    if not found.upstream.is_open:
        return error_response(ErrorCode.NOT_READY)
    return jsonify(status="ok")
