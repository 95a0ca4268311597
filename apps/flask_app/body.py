"""Request body I/O: reading at most 1 MiB, and discarding what a view did not read."""

from __future__ import annotations

import contextlib
from typing import IO

from flask import Response, request
from werkzeug.exceptions import BadRequest, ClientDisconnected, RequestEntityTooLarge

from twinbench.apps.common.errors import MAX_BODY_BYTES

_READ_CHUNK = 64 * 1024


class UnreadableBody(BadRequest):
    """The server could not de-frame the body (a malformed chunk size, say): a 400, whose
    contract code is malformed_json, as for any body that is not JSON."""


def read_body() -> bytes:
    """The request body, at most MAX_BODY_BYTES of it, else 413; 400 if it cannot be read.

    gunicorn parses chunked framing lazily, while the app reads, and raises its own
    exceptions (InvalidChunkSize, ChunkMissingTerminator: not OSError) from `read()`; they
    were a 500 with a traceback. waitress and uvicorn refuse such a body before the app.
    """
    try:
        return _read_body()
    except (RequestEntityTooLarge, ClientDisconnected):
        raise
    except Exception as exc:
        raise UnreadableBody() from exc


def _read_body() -> bytes:
    """The request body, at most MAX_BODY_BYTES of it, else 413.

    With a Content-Length (already checked against the limit in a before_request hook),
    werkzeug reads exactly that much. A chunked body has no length; werkzeug's
    MAX_CONTENT_LENGTH stream (3.1) then stops *silently* at the limit and would hand over a
    truncated body, so it is read here to one byte past the limit to tell "exactly 1 MiB" from
    "more". The servers (gunicorn, waitress) de-chunk and terminate that stream themselves.
    """
    if request.content_length is not None or "wsgi.input_terminated" not in request.environ:
        return request.get_data(cache=False)
    stream = request.input_stream
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_BODY_BYTES:
        chunk = stream.read(min(_READ_CHUNK, MAX_BODY_BYTES + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > MAX_BODY_BYTES:
        raise RequestEntityTooLarge()
    return b"".join(chunks)


# How much of an unread body after_request will read and drop so the connection stays usable.
# Twice the limit: enough for the usual "a bit too large" body, bounded for anything bigger.
DRAIN_LIMIT = 2 * MAX_BODY_BYTES


def drain_unread_body(response: Response) -> Response:
    """after_request hook: read and drop what the view left of the body (a 413, or a 415, 404
    or 405 with a body, ...), up to DRAIN_LIMIT, so the keep-alive connection stays usable.

    gunicorn's gthread worker drains at most 64 KiB of an unread body after the response and
    otherwise closes the connection *after* having answered "keep-alive", so a client that
    reuses the connection fails with "server disconnected". Past DRAIN_LIMIT, that close is
    the right outcome and is left to the server.
    """
    environ = request.environ
    if environ.get("CONTENT_LENGTH") in (None, "", "0") and "HTTP_TRANSFER_ENCODING" not in environ:
        return response  # no body: the hot path costs two dict lookups
    length = request.content_length
    # A client that hung up mid-body has no use for the answer, and a body whose framing the
    # server refused (gunicorn's ParseException subclasses) cannot be drained: the answer is
    # decided either way, and the server closes a connection it cannot parse.
    with contextlib.suppress(Exception):
        if "wsgi.input_terminated" in request.environ:
            # gunicorn and waitress end the raw stream at the end of the body (by length or
            # chunked), so reading it to EOF never blocks, even after a view read some of it.
            if length is None or length <= DRAIN_LIMIT:
                _discard(request.input_stream, DRAIN_LIMIT)
        elif length and length <= MAX_BODY_BYTES:
            request.stream.read()  # bounded by Content-Length; b"" if the view read it all
    return response


def _discard(stream: IO[bytes], limit: int) -> None:
    read = 0
    while read < limit and (chunk := stream.read(min(_READ_CHUNK, limit - read))):
        read += len(chunk)
