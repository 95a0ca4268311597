"""A tiny real target for the Locust plugin's tests: `python tinyserver.py PORT [--delay-ms D]`.

It implements just enough of apps/CONTRACT.md (json, plaintext, items, upstream-like delay,
SSE, WebSocket echo/broadcast) to exercise every locustfile without the twin apps, with
known, controllable latencies. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

ITEMS: dict[int, dict[str, Any]] = {}
NEXT_ID = [1]
BROADCAST: set[WebSocket] = set()
DROP_AFTER = [0]


def _err(status: int, code: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": code, "details": []}}, status)


async def json_ep(request: Request) -> Response:
    return JSONResponse({"message": "Hello, World!"})


async def plaintext(request: Request) -> Response:
    return PlainTextResponse("Hello, World!")


async def delay(request: Request) -> Response:
    ms = int(request.query_params.get("ms", "0"))
    await asyncio.sleep(ms / 1000)
    return JSONResponse({"delay_ms": ms})


async def _body(request: Request) -> dict[str, Any] | Response:
    try:
        body = json.loads(await request.body())
    except ValueError:
        return _err(400, "malformed_json")
    if (
        not isinstance(body, dict)
        or set(body) - {"name", "price", "tags"}
        or not isinstance(body.get("name"), str)
        or not 1 <= len(body["name"]) <= 100
        or not isinstance(body.get("price"), int | float)
        or body["price"] < 0
        or not isinstance(body.get("tags", []), list)
        or any(not isinstance(t, str) or len(t) > 30 for t in body.get("tags", []))
    ):
        return _err(422, "validation_error")
    return {"name": body["name"], "price": float(body["price"]), "tags": body.get("tags", [])}


async def items(request: Request) -> Response:
    if request.method == "POST":
        body = await _body(request)
        if isinstance(body, Response):
            return body
        item = {"id": NEXT_ID[0], **body}
        NEXT_ID[0] += 1
        ITEMS[item["id"]] = item
        return JSONResponse(item, 201)
    limit = int(request.query_params.get("limit", "20"))
    offset = int(request.query_params.get("offset", "0"))
    page = sorted(ITEMS.values(), key=lambda i: i["id"])[offset : offset + limit]
    return JSONResponse({"items": page, "limit": limit, "offset": offset})


async def item(request: Request) -> Response:
    raw = request.path_params["id"]
    iid = int(raw) if raw.isdigit() else -1
    if iid not in ITEMS:
        return _err(404, "not_found")
    if request.method == "GET":
        return JSONResponse(ITEMS[iid])
    if request.method == "DELETE":
        del ITEMS[iid]
        return Response(status_code=204)
    body = await _body(request)
    if isinstance(body, Response):
        return body
    ITEMS[iid] = {"id": iid, **body}
    return JSONResponse(ITEMS[iid])


async def sse(request: Request) -> Response:
    n = int(request.query_params.get("events", "10"))
    interval = int(request.query_params.get("interval_ms", "100")) / 1000
    start = int(request.headers.get("last-event-id", "0")) + 1
    # test hook: a first connection (no Last-Event-ID) ends early after DROP_AFTER[0] events
    drop_after = DROP_AFTER[0]

    async def gen() -> Any:
        for i in range(start, n + 1):
            if i > start:
                await asyncio.sleep(interval)
            data = json.dumps({"seq": i, "total": n, "sent_ns": time.time_ns()})
            yield f"id: {i}\ndata: {data}\n\n".encode()
            if drop_after and start == 1 and i == drop_after:
                return

    headers = {"Cache-Control": "no-cache"}
    return StreamingResponse(gen(), media_type="text/event-stream", headers=headers)


async def upstream(request: Request) -> Response:
    return await delay(request)


async def cpu(request: Request) -> Response:
    return JSONResponse({"n": int(request.query_params.get("n", "1")), "digest": "00"})


async def ws_echo(ws: WebSocket) -> None:
    await ws.accept()
    try:
        while True:
            msg = await ws.receive()
            if msg["type"] == "websocket.disconnect":
                return
            if msg.get("text") is not None:
                await ws.send_text(msg["text"])
            elif msg.get("bytes") is not None:
                await ws.send_bytes(msg["bytes"])
    except WebSocketDisconnect:
        return


async def ws_broadcast(ws: WebSocket) -> None:
    await ws.accept()
    BROADCAST.add(ws)
    try:
        while True:
            text = await ws.receive_text()
            for peer in list(BROADCAST):
                try:
                    await peer.send_text(text)
                except Exception:
                    BROADCAST.discard(peer)
    except WebSocketDisconnect:
        pass
    finally:
        BROADCAST.discard(ws)


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


class LogTimes:
    """ASGI middleware: append time.time_ns() of every finished HTTP response to a file, so
    a test can count what the server answered inside a measured window."""

    def __init__(self, app: Any, path: str) -> None:
        self.app = app
        self.fh = open(path, "a", buffering=1)  # noqa: SIM115 (lives as long as the server)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] == "/health":
            await self.app(scope, receive, send)
            return

        async def timed_send(message: Any) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.fh.write(f"{time.time_ns()} {scope['path']}\n")

        await self.app(scope, receive, timed_send)


app = Starlette(
    routes=[
        Route("/health", health),
        Route("/json", json_ep),
        Route("/plaintext", plaintext),
        Route("/delay", delay),
        Route("/api/items", items, methods=["GET", "POST"]),
        Route("/api/items/{id}", item, methods=["GET", "PUT", "DELETE"]),
        Route("/api/upstream", upstream),
        Route("/api/cpu", cpu),
        Route("/sse/stream", sse),
        WebSocketRoute("/ws/echo", ws_echo),
        WebSocketRoute("/ws/broadcast", ws_broadcast),
    ]
)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--sse-drop-after", type=int, default=0)
    parser.add_argument("--log-times", help="append each response's time.time_ns() here")
    args = parser.parse_args()
    DROP_AFTER[0] = args.sse_drop_after
    served: Any = LogTimes(app, args.log_times) if args.log_times else app
    uvicorn.run(served, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
