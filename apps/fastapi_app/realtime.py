"""Server-Sent Events and WebSockets."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Header, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse

from twinbench.apps.common.errors import ErrorCode
from twinbench.apps.common.handshake import request_errors
from twinbench.apps.common.models import SseParams

from .broadcast import BroadcastHub
from .errors import error_response
from .resources import ResourcesDep
from .routes import GET, RouteTable

routes = RouteTable()

# A typed header, validated with the query in one pass, so a request with a bad query *and*
# a bad header lists both errors, as the Flask twin does. Its errors are those of the Flask
# twin's TypeAdapter(Annotated[int, Field(ge=0)]) (same core validator, same lax str→int
# parsing; a test checks it), and the handler reports the field as "Last-Event-ID".
LastEventId = Annotated[int | None, Header(alias="Last-Event-ID", ge=0)]

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
HEARTBEAT = b": heartbeat\n\n"


def sse_event(seq: int, total: int) -> bytes:
    data = json.dumps({"seq": seq, "total": total, "sent_ns": time.time_ns()})
    return f"id: {seq}\ndata: {data}\n\n".encode()


async def event_stream(
    first: int, total: int, interval_ms: int, heartbeat_ms: int
) -> AsyncIterator[bytes]:
    """Events first..total, the first at once, then one every interval_ms.

    Deadlines are computed from the start, so slow sends do not make the stream drift. If
    the client goes away, Starlette cancels this generator at its current await.
    """
    loop = asyncio.get_running_loop()
    interval, heartbeat = interval_ms / 1000, heartbeat_ms / 1000
    start = loop.time()
    for seq in range(first, total + 1):
        due = start + (seq - first) * interval
        # Waiting longer than a heartbeat: send a comment every heartbeat until the event.
        while due - loop.time() > heartbeat:
            await asyncio.sleep(heartbeat)
            yield HEARTBEAT
        await asyncio.sleep(max(0.0, due - loop.time()))
        yield sse_event(seq, total)


async def _empty() -> AsyncIterator[bytes]:
    return
    yield  # pragma: no cover - makes this an async generator


@routes.api_route("/sse/stream", methods=GET)
async def sse_stream(
    request: Request,
    params: Annotated[SseParams, Query()],
    last_event_id: LastEventId = None,
) -> StreamingResponse:
    first = (last_event_id or 0) + 1
    # HEAD gets the same headers; there is no point producing (and timing) a dropped body.
    body = (
        _empty()
        if request.method == "HEAD"
        else event_stream(first, params.events, params.interval_ms, params.heartbeat_ms)
    )
    return StreamingResponse(body, media_type="text/event-stream", headers=SSE_HEADERS)


async def refused(websocket: WebSocket) -> bool:
    """Answer a handshake RFC 6455 says to refuse with the contract's 400, before accepting.

    The server performs the handshake proper (uvicorn refuses a bad key or version itself,
    with its own 400); a handshake without Host reaches the app (common/handshake.py). The
    400 goes out through the ASGI WebSocket Denial Response extension, which every uvicorn
    protocol implements; a server without it gets a close before accept (a 403 there)."""
    # ASGI: a WebSocket scope without "http_version" means 1.1.
    errors = request_errors(websocket.scope.get("http_version", "1.1"), websocket.headers.getlist)
    if not errors:
        return False
    response = error_response(ErrorCode.BAD_HANDSHAKE, errors)
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(response)
    else:
        await websocket.close(code=1002)
    return True


@routes.websocket("/ws/echo")
async def ws_echo(websocket: WebSocket) -> None:
    if await refused(websocket):
        return
    await websocket.accept()
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("text") is not None:
                await websocket.send_text(message["text"])
            elif message.get("bytes") is not None:
                await websocket.send_bytes(message["bytes"])
    except WebSocketDisconnect:  # the client left while we were sending
        return


@routes.websocket("/ws/broadcast")
async def ws_broadcast(websocket: WebSocket, resources: ResourcesDep) -> None:
    hub: BroadcastHub = resources.hub
    if await refused(websocket):
        return
    await websocket.accept()
    subscriber = hub.join(websocket)
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            hub.publish(text if text is not None else message.get("bytes") or b"")
    except WebSocketDisconnect:
        return
    finally:
        hub.leave(subscriber)
