"""The mock upstream as a raw ASGI callable.

Why no framework: under load thousands of requests wait on this mock at once, and whatever
it spends per request is added to every twin's `/api/upstream` latency. A raw callable
skips routing tables, middleware stacks, request objects and validation: one dict lookup on
the path and a hand-rolled integer parse. Response bodies of `/delay` are built with bytes
formatting (they only hold integers), which is several times cheaper than `json.dumps`.

Endpoints (GET; HEAD is answered wherever GET is, uvicorn drops the body):

- `/delay?ms=M` (0..10000, default 0): waits M ms without blocking, then
  `{"delay_ms": M, "received_ns": ..., "sent_ns": ...}` (`time.time_ns()` at arrival and at
  answer).
- `/stream?tokens=N&interval_ms=I` (N 1..10000 default 20, I 0..10000 default 50): an
  LLM-like token stream, `text/event-stream`: token k (1..N) is sent k*I ms after arrival as
  `data: {"token": k, "text": "tok<k>"}`, then `data: [DONE]`.
- `/health`: `{"status": "ok"}`.

Errors have the contract's body shape: bad or out-of-range query values give `400`
(`bad_request`), unknown paths `404` (`not_found`), other methods on a known path `405`
(`method_not_allowed`, with `Allow`). No input produces a 5xx. The one 5xx is a shutdown's:
a `/delay` still waiting when the server's graceful timeout ends is answered `503`
(`shutting_down`) and a stream is ended early, rather than being cancelled mid-await (which
uvicorn would log as an exception with a traceback).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_DELAY_MS = 10_000
DEFAULT_TOKENS = 20
MAX_TOKENS = 10_000
DEFAULT_INTERVAL_MS = 50
MAX_INTERVAL_MS = 10_000

# Integers longer than this are out of range anyway; refusing them early keeps `int()` away
# from arbitrarily long attacker-sized strings.
_MAX_INT_CHARS = 12

_JSON_HEADERS = [(b"content-type", b"application/json")]
_SSE_HEADERS = [
    (b"content-type", b"text/event-stream"),
    # Proxies and clients must not cache or buffer a token stream.
    (b"cache-control", b"no-cache"),
]
_ALLOW = b"GET, HEAD"
_HEALTH_BODY = b'{"status":"ok"}'
_DONE_EVENT = b"data: [DONE]\n\n"


class _BadParam(Exception):
    """A query parameter is missing its value, not a decimal integer, or out of range."""


def _error_body(code: str, message: str) -> bytes:
    body = {"error": {"code": code, "message": message, "details": []}}
    return json.dumps(body).encode()


_NOT_FOUND_BODY = _error_body("not_found", "Not found")
_METHOD_NOT_ALLOWED_BODY = _error_body("method_not_allowed", "Method not allowed")
_SHUTTING_DOWN_BODY = _error_body("shutting_down", "The upstream is shutting down")


def _int_param(query: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    """`query[name]` as an int in low..high; `default` when absent.

    Only plain ASCII digits are accepted: `int()` alone would also take " 5", "5_0", "+5"
    and non-ASCII digits, which an upstream API would not.
    """
    raw = query.get(name)
    if raw is None:
        return default
    if not raw or len(raw) > _MAX_INT_CHARS or not (raw.isascii() and raw.isdigit()):
        raise _BadParam(f"{name} must be an integer in {low}..{high}")
    value = int(raw)
    if not low <= value <= high:
        raise _BadParam(f"{name} must be an integer in {low}..{high}")
    return value


def _parse_query(scope: Scope) -> dict[str, str]:
    # keep_blank_values: "ms=" must be a 400, not silently the default. The first
    # occurrence of a repeated parameter wins (setdefault).
    query: dict[str, str] = {}
    raw: bytes = scope.get("query_string", b"")
    if raw:
        for key, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
            query.setdefault(key, value)
    return query


async def _send_bytes(
    send: Send,
    status: int,
    body: bytes,
    headers: list[tuple[bytes, bytes]] = _JSON_HEADERS,
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _sleep_until(deadline: float) -> None:
    """Sleep until `time.monotonic()` reaches `deadline`, never less.

    uvloop's timers have millisecond resolution and run off a loop clock cached at the start
    of each iteration, so a single `asyncio.sleep(d)` can wake a fraction of a millisecond
    early. Callers are promised *at least* the delay they asked for, hence the re-check.
    """
    while (remaining := deadline - time.monotonic()) > 0:
        await asyncio.sleep(remaining)


async def _delay(scope: Scope, receive: Receive, send: Send, received_ns: int) -> None:
    arrived = time.monotonic()
    try:
        ms = _int_param(_parse_query(scope), "ms", 0, 0, MAX_DELAY_MS)
    except _BadParam as exc:
        await _send_bytes(send, 400, _error_body("bad_request", str(exc)))
        return
    if ms:
        try:
            await _sleep_until(arrived + ms / 1000)
        except asyncio.CancelledError:
            # Only uvicorn's shutdown cancels a request task (a client that goes away does
            # not): answer it, and end the task normally so nothing is logged as a crash.
            await _send_bytes(send, 503, _SHUTTING_DOWN_BODY)
            return
    body = b'{"delay_ms":%d,"received_ns":%d,"sent_ns":%d}' % (ms, received_ns, time.time_ns())
    await _send_bytes(send, 200, body)


async def _wait_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _stream(scope: Scope, receive: Receive, send: Send, received_ns: int) -> None:
    arrived = time.monotonic()
    query = _parse_query(scope)
    try:
        tokens = _int_param(query, "tokens", DEFAULT_TOKENS, 1, MAX_TOKENS)
        interval_ms = _int_param(query, "interval_ms", DEFAULT_INTERVAL_MS, 0, MAX_INTERVAL_MS)
    except _BadParam as exc:
        await _send_bytes(send, 400, _error_body("bad_request", str(exc)))
        return
    await send({"type": "http.response.start", "status": 200, "headers": _SSE_HEADERS})
    if scope["method"] == "HEAD":
        await send({"type": "http.response.body", "body": b""})
        return
    # uvicorn silently drops writes once the client has gone, so without watching for the
    # disconnect an abandoned 10,000-token stream would keep a task busy for hours.
    watcher = asyncio.ensure_future(_wait_disconnect(receive))
    try:
        interval = interval_ms / 1000
        for k in range(1, tokens + 1):
            if interval:
                # Scheduled from arrival, not from the previous send, so the stream does not
                # drift later and later under load.
                await _sleep_until(arrived + k * interval)
            if watcher.done():
                return
            event = b'data: {"token": %d, "text": "tok%d"}\n\n' % (k, k)
            await send({"type": "http.response.body", "body": event, "more_body": True})
        await send({"type": "http.response.body", "body": _DONE_EVENT})
    except asyncio.CancelledError:
        # Shutdown (see `_delay`): end the stream without its [DONE] so the client can tell.
        await send({"type": "http.response.body", "body": b""})
    finally:
        watcher.cancel()


async def _health(scope: Scope, receive: Receive, send: Send, received_ns: int) -> None:
    await _send_bytes(send, 200, _HEALTH_BODY)


_Handler = Callable[[Scope, Receive, Send, int], Awaitable[None]]
_ROUTES: dict[str, _Handler] = {"/delay": _delay, "/stream": _stream, "/health": _health}


async def _lifespan(receive: Receive, send: Send) -> None:
    # Nothing to set up; answering the protocol keeps uvicorn from logging that lifespan is
    # unsupported.
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def upstream_app(scope: Scope, receive: Receive, send: Send) -> None:
    """The ASGI entry point (see the module docstring for the endpoints)."""
    received_ns = time.time_ns()
    kind = scope["type"]
    if kind != "http":
        if kind == "lifespan":
            await _lifespan(receive, send)
        elif kind == "websocket":
            # Closing before accepting makes the server answer the handshake with 403.
            await send({"type": "websocket.close", "code": 1000})
        return
    handler = _ROUTES.get(scope["path"])
    if handler is None:
        await _send_bytes(send, 404, _NOT_FOUND_BODY)
    elif scope["method"] not in ("GET", "HEAD"):
        await _send_bytes(send, 405, _METHOD_NOT_ALLOWED_BODY, [*_JSON_HEADERS, (b"allow", _ALLOW)])
    else:
        await handler(scope, receive, send, received_ns)


def create_app() -> ASGIApp:
    """The mock upstream ASGI app (stateless, so one callable serves every caller)."""
    return upstream_app
