"""Real-time endpoints: Server-Sent Events and the two WebSockets (flask-sock)."""

from __future__ import annotations

import socket
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, request, stream_with_context
from flask_sock import Sock
from simple_websocket import Server

from twinbench.apps.common.errors import ErrorCode
from twinbench.apps.common.handshake import VERSION_HEADER, handshake_errors, needs_version_header
from twinbench.apps.common.models import SseParams

from .errors import ApiError
from .sse import event_stream
from .state import services
from .validation import last_event_id_errors, query_errors

bp = Blueprint("realtime", __name__)
sock = Sock()

# Like uvicorn's default WebSocket message limit (16 MiB), so neither twin accepts unbounded
# messages and both accept the same ones.
SOCK_SERVER_OPTIONS = {"max_message_size": 16 * 1024 * 1024}


def server_can_upgrade(environ: Mapping[str, Any]) -> bool:
    """Whether the WSGI server can hold a WebSocket: it hands its socket over (the way
    simple_websocket looks for it: werkzeug, gunicorn, eventlet, gevent) *and* serves other
    requests meanwhile.

    gunicorn puts `gunicorn.socket` into every worker's environ, the sync worker's too. A
    sync worker serves one request per process, so a WebSocket would hold the whole worker
    until the client leaves (or gunicorn's --timeout kills it): that server configuration
    cannot serve WebSockets. gunicorn marks it: every other worker class (gthread, gevent,
    eventlet) sets `wsgi.multithread` to True; sync leaves it False. waitress does
    not hand its socket over at all: it is pure WSGI."""
    if "gunicorn.socket" in environ:
        return bool(environ.get("wsgi.multithread"))
    return (
        "werkzeug.socket" in environ
        or "eventlet.input" in environ
        or str(environ.get("SERVER_SOFTWARE", "")).startswith("gevent")
    )


class SendAllSocket:
    """The server's socket, but `send` writes everything, like `sendall`.

    simple_websocket writes each frame with a single `sock.send()`. On a blocking socket
    (gthread, sync) that sends it all, but gevent's cooperative socket returns after a partial
    write, so a frame larger than the socket buffer (measured: a 5 MB echo) was cut short and
    the client hung. Everything else is the real socket's.
    """

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def send(self, data: bytes) -> int:
        self._sock.sendall(data)
        return len(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


@bp.before_request
def prepare_websocket() -> None:
    rule = request.url_rule
    if rule is None or not rule.websocket:
        return
    if not server_can_upgrade(request.environ):
        # The contract's 501 for a configuration without WebSocket, answered at once.
        # Without it, simple_websocket raises RuntimeError (a 500) on waitress, and takes
        # over a gunicorn sync worker for as long as the client stays.
        raise ApiError(ErrorCode.NOT_IMPLEMENTED)
    # simple-websocket/wsproto raise on a missing key, version or Host (a 500 with a
    # traceback) and accept a malformed key: the RFC's checks come first (common/handshake.py).
    errors = handshake_errors(request.environ.get("SERVER_PROTOCOL", ""), request.headers.getlist)
    if errors:
        headers = dict([VERSION_HEADER]) if needs_version_header(errors) else None
        raise ApiError(ErrorCode.BAD_HANDSHAKE, errors, headers)
    sock = request.environ.get("gunicorn.socket")
    if sock is not None and not isinstance(sock, SendAllSocket):
        request.environ["gunicorn.socket"] = SendAllSocket(sock)


@bp.get("/sse/stream")
def sse_stream() -> Response:
    params, details = query_errors(SseParams)
    last_event_id, header_details = last_event_id_errors()
    # Query and header problems are reported together, query first (as FastAPI does).
    if params is None or header_details:
        raise ApiError(ErrorCode.VALIDATION_ERROR, details + header_details)
    events = event_stream(
        last_event_id,
        params.events,
        params.interval_ms,
        params.heartbeat_ms,
    )
    # Each yielded event is handed to the server as its own chunk: gunicorn writes it to the
    # socket at once, and waitress (send_bytes=1 by default) flushes every write.
    return Response(
        stream_with_context(events),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@sock.route("/ws/echo", bp=bp)
def ws_echo(ws: Server) -> None:
    # receive() blocks until a message arrives; flask-sock turns the close into a normal return.
    while True:
        ws.send(ws.receive())


@sock.route("/ws/broadcast", bp=bp)
def ws_broadcast(ws: Server) -> None:
    hub = services().hub
    subscriber = hub.subscribe(ws)
    try:
        while True:
            hub.publish(ws.receive())
    finally:
        hub.unsubscribe(subscriber)
