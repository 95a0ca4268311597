"""Make two responses comparable: blank out what is allowed to differ between twins.

Allowed to differ (the parity rule): ids, timestamps and random values. Everything else,
including error codes, messages and details, must match exactly.
"""

from __future__ import annotations

from typing import Any

_VOLATILE = frozenset({"id", "randomNumber", "sent_ns", "received_ns"})


def normalize(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ("<v>" if k in _VOLATILE else normalize(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


def comparable(status: int, content_type: str, body: bytes) -> tuple[int, str, Any]:
    """(status, media type, normalized body) — JSON parsed, text kept, HTML kept."""
    # An empty body (204, HEAD) has no media type worth comparing: Flask labels it
    # text/html by default, Starlette leaves it out.
    media = content_type.split(";", 1)[0].strip().lower() if body else ""
    if media == "application/json" and body:
        import json

        return status, media, normalize(json.loads(body))
    return status, media, body.decode("utf-8", "replace")
