"""Request-body limit (1 MiB) as a small pure-ASGI middleware.

FastAPI ≥ 0.12x has `FastAPI(max_body_size=...)`, but when the declared Content-Length is
too large it replaces whatever response the app sends with a plain-text 413 that no
exception handler sees; the contract wants the JSON error body on every 4xx. So:

- a declared Content-Length over the limit is answered here at once (JSON 413), before
  routing and without reading the body;
- a chunked body is counted as it streams: going over the limit raises `BodyTooLarge`, an
  HTTPException that FastAPI's body reader re-raises and the app's handler turns into the
  JSON 413;
- a request with neither header has no body, so it passes through untouched (GET costs one
  scan of the header list, nothing more).
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from twinbench.apps.common.errors import MAX_BODY_BYTES, ErrorCode, error_body


class BodyTooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(status_code=ErrorCode.PAYLOAD_TOO_LARGE.status)


async def _send_too_large(scope: Scope, receive: Receive, send: Send) -> None:
    response = JSONResponse(
        error_body(ErrorCode.PAYLOAD_TOO_LARGE),
        status_code=ErrorCode.PAYLOAD_TOO_LARGE.status,
        # The unread body is still on the wire: do not reuse this connection.
        headers={"Connection": "close"},
    )
    await response(scope, receive, send)


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                # The server already rejects a malformed Content-Length, and it delivers
                # exactly the declared number of bytes, so there is nothing to count.
                if value.isdigit() and int(value) > self.max_bytes:
                    await _send_too_large(scope, receive, send)
                    return
            elif name == b"transfer-encoding":
                chunked = True
        if not chunked:
            await self.app(scope, receive, send)
            return

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            # Only if the app let the error escape its handlers (it normally does not).
            if started:
                raise
            await _send_too_large(scope, receive, send)
