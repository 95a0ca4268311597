"""The contract's headers on every response (apps/CONTRACT.md, "Headers on every response").

`assert_common_headers` is installed as a response hook on every `Served.client`, so each
response a contract, parity or property test receives through it is checked: TechEmpower
endpoints, the JSON API and its errors, SSE, health.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping, Sequence

import httpx

# "Current to the second": the server stamps the second it answers in, the test reads the
# clock a moment later; 2 s of slack covers a loaded 2-core machine, a stale cache would not.
DATE_SLACK_S = 2.0


def assert_common_headers(resp: httpx.Response) -> None:
    check_common_headers(resp.request.method, resp.status_code, resp.headers)


def check_common_headers(
    method: str, status: int, headers: Mapping[str, str], server_stamps: bool = True
) -> None:
    """Server, a current Date, Content-Type, and Content-Length or chunked, with the two
    exceptions HTTP itself makes: a 204 has no body (so neither length nor chunking, and
    no media type worth requiring), and a HEAD of a stream may carry neither.
    `server_stamps=False`: a response the server writes without its Server and Date (see
    `denial_has_server_stamps`); the rest is still checked."""
    lower = {k.lower(): v for k, v in headers.items()}
    where = f"{method} -> {status}"
    if server_stamps:
        assert lower.get("server"), f"{where}: Server header missing"
        assert "date" in lower, f"{where}: Date header missing"
        date = email.utils.parsedate_to_datetime(lower["date"])
        skew = abs(date.timestamp() - time.time())
        assert skew <= DATE_SLACK_S + 1, f"{where}: Date {lower['date']} is {skew:.1f} s off"
    chunked = "chunked" in lower.get("transfer-encoding", "").lower()
    if status == 204:
        assert not chunked and "content-length" not in lower, f"{where}: 204 with a body"
        return
    assert lower.get("content-type"), f"{where}: Content-Type missing"
    if method == "HEAD" and lower["content-type"].startswith("text/event-stream"):
        return
    assert "content-length" in lower or chunked, f"{where}: neither Content-Length nor chunked"


def denial_has_server_stamps(argv: Sequence[str]) -> bool:
    """Whether the server adds Server and Date to an app's answer to a WebSocket handshake
    (the ASGI denial response). uvicorn's `--ws websockets` protocol (the legacy websockets
    API) writes it with the app's headers only; its other protocols add them, and the WSGI
    servers answer a handshake like any request (apps/CONTRACT.md)."""
    if "--ws" in argv:
        return argv[list(argv).index("--ws") + 1] != "websockets"
    return True
