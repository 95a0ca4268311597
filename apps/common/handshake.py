"""The WebSocket opening handshake checks both twins make (RFC 6455, section 4.2.1).

A server must answer a handshake that breaks the RFC's rules with an HTTP error (400) and
not upgrade. The servers and libraries under the twins each check part of it:

- uvicorn (websockets, wsproto) refuses a missing or malformed `Sec-WebSocket-Key` and a
  missing or unsupported `Sec-WebSocket-Version` itself (400, plain text), but upgrades
  an HTTP/1.0 request and one without `Host`;
- flask-sock hands the request to simple-websocket/wsproto, which raises on a missing key,
  version or Host (a 500 with a traceback), and accepts any key, however malformed.

So each twin checks what its server leaves to it before it accepts, and answers 400
`bad_handshake` with the contract's JSON body: the Flask twin all of it
(`handshake_errors`), the FastAPI twin the request line and Host (`request_errors`): in
ASGI the server performs the handshake (it answers the key with Sec-WebSocket-Accept), and
uvicorn refuses a bad key or version itself. uvicorn also presents every handshake to the
app as HTTP/1.1, so on uvicorn an HTTP/1.0 handshake is upgraded (apps/CONTRACT.md).
Pure: no I/O; `getlist(name)` returns a header's values.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

WEBSOCKET_VERSION = "13"
# Sent with a version problem, as RFC 6455 section 4.4 asks: the versions this server speaks.
VERSION_HEADER = ("Sec-WebSocket-Version", WEBSOCKET_VERSION)

GetList = Callable[[str], list[str]]


def _detail(field: str, type_: str, message: str) -> dict[str, str]:
    return {"field": field, "type": type_, "message": message}


def _one(getlist: GetList, name: str) -> str | None:
    """The header's one value; None when it is missing or given more than once."""
    values = getlist(name)
    return values[0].strip() if len(values) == 1 else None


def key_is_valid(key: str) -> bool:
    """base64 (strict alphabet, with padding) of exactly 16 bytes."""
    try:
        return len(base64.b64decode(key.encode("ascii"), validate=True)) == 16
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return False


def _at_least_http_1_1(http_version: str) -> bool:
    """`1.1`, `HTTP/1.1`, `2`: true; `1.0`, `HTTP/1.0`, garbage: false."""
    parts = (http_version.removeprefix("HTTP/") + ".0").split(".")[:2]
    try:
        return (int(parts[0]), int(parts[1])) >= (1, 1)
    except ValueError:
        return False


def handshake_errors(http_version: str, getlist: GetList) -> list[dict[str, str]]:
    """What is wrong with a handshake that has `Upgrade: websocket` and `Connection:
    Upgrade` (the servers route it as a WebSocket only then): the contract's details, or []."""
    return request_errors(http_version, getlist) + websocket_header_errors(getlist)


def request_errors(http_version: str, getlist: GetList) -> list[dict[str, str]]:
    """The request line's version and Host (RFC 6455 4.2.1, items 1 and 2)."""
    errors = []
    if not _at_least_http_1_1(http_version):
        errors.append(
            _detail("http_version", "unsupported", "A WebSocket handshake needs HTTP/1.1 or later")
        )
    host = _one(getlist, "Host")
    if not host:
        errors.append(_detail("Host", "missing", "Exactly one Host header is required"))
    return errors


def websocket_header_errors(getlist: GetList) -> list[dict[str, str]]:
    """Sec-WebSocket-Version and Sec-WebSocket-Key (RFC 6455 4.2.1, items 5 and 6)."""
    errors = []
    version = _one(getlist, "Sec-WebSocket-Version")
    if version is None:
        errors.append(
            _detail(
                "Sec-WebSocket-Version", "missing", "Exactly one Sec-WebSocket-Version is required"
            )
        )
    elif version != WEBSOCKET_VERSION:
        errors.append(
            _detail("Sec-WebSocket-Version", "unsupported", "Only WebSocket version 13 is spoken")
        )
    key = _one(getlist, "Sec-WebSocket-Key")
    if key is None:
        errors.append(
            _detail("Sec-WebSocket-Key", "missing", "Exactly one Sec-WebSocket-Key is required")
        )
    elif not key_is_valid(key):
        errors.append(
            _detail("Sec-WebSocket-Key", "invalid", "Sec-WebSocket-Key must be base64 of 16 bytes")
        )
    return errors


def needs_version_header(errors: list[dict[str, str]]) -> bool:
    return any(e["field"] == "Sec-WebSocket-Version" for e in errors)
