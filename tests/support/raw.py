"""Raw HTTP/1.1 over a socket, for requests httpx will not send (malformed framing)."""

from __future__ import annotations

import socket
from dataclasses import dataclass


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes


def raw_request(port: int, data: bytes, timeout: float = 10) -> RawResponse:
    """Send `data` as it is, read the first response (to its Content-Length, or to EOF;
    nothing for a 1xx, 204 or 304, which have no body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                break
            buf += chunk
        head, _, body = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "-1"))
        if status < 200 or status in (204, 304):
            # No body by definition (RFC 9112 6.3): after a 101 the connection is WebSocket's
            # and stays open, so reading "to EOF" only ended at the timeout (3 s a request).
            length = 0
        try:
            while length < 0 or len(body) < length:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                body += chunk
        except (ConnectionResetError, TimeoutError):
            pass  # the server answered and hung up on a request it could not parse
        return RawResponse(status, headers, body if length < 0 else body[:length])
