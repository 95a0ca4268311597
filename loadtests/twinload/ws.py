"""WebSocket users' helpers (websocket-client: its blocking sockets cooperate under gevent)."""

from __future__ import annotations

import time
from typing import Any

import websocket
from locust import User

from .state import STATE

CONNECT_TIMEOUT_S = 30.0
RECV_TIMEOUT_S = 30.0


def ws_url(host: str, path: str) -> str:
    if host.startswith("https://"):
        return "wss://" + host.removeprefix("https://").rstrip("/") + path
    return "ws://" + host.removeprefix("http://").rstrip("/") + path


def fire(user: User, name: str, ms: float, exc: Exception | None = None, length: int = 0) -> None:
    user.environment.events.request.fire(
        request_type="WS",
        name=name,
        response_time=ms,
        response_length=length,
        exception=exc,
        context={},
        response=None,
    )


def connect(user: User, path: str) -> websocket.WebSocket | None:
    """Open a connection, recording the handshake time as ``ws connect``; None on failure."""
    assert user.host is not None
    t0 = time.perf_counter()
    try:
        ws = websocket.create_connection(
            ws_url(user.host, path), timeout=CONNECT_TIMEOUT_S, enable_multithread=False
        )
    except Exception as exc:
        fire(user, "ws connect", (time.perf_counter() - t0) * 1000.0, exc)
        return None
    fire(user, "ws connect", (time.perf_counter() - t0) * 1000.0)
    ws.settimeout(RECV_TIMEOUT_S)
    STATE.gauge_add("connections_held", 1)
    return ws


CLOSE_TIMEOUT_S = 1.0
MAX_FRAMES_BEFORE_CLOSE = 100  # frames still in flight before the server's close frame


def close(ws: Any) -> None:
    """The closing handshake, bounded, then the socket closed.

    Not websocket-client's `close()`: it swallows every exception with a bare `except`,
    GreenletExit included, so a user Locust stops while it is closing would never stop
    (the runner then waits for it forever). Only errors of the connection are ignored here.
    """
    if ws is None:
        return
    STATE.gauge_add("connections_held", -1)
    try:
        if ws.connected:
            ws.send_close()
            deadline = time.perf_counter() + CLOSE_TIMEOUT_S  # for the whole handshake
            for _ in range(MAX_FRAMES_BEFORE_CLOSE):
                left = deadline - time.perf_counter()
                if left <= 0:
                    break
                ws.settimeout(left)
                if ws.recv_frame().opcode == websocket.ABNF.OPCODE_CLOSE:
                    break
    except (websocket.WebSocketException, OSError, ValueError):
        pass  # the peer went first, or took too long: the socket is closed below anyway
    finally:
        ws.connected = False
        ws.shutdown()
