"""Server-sent events: an incremental parser and one measured stream (with resumption).

The stream is read with requests/urllib3 and ``iter_content(chunk_size=None)``, which yields
each HTTP chunk as soon as it arrives (geventhttpclient's ``read(n)`` blocks until n bytes, which
would batch events and falsify their timing).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

from locust import HttpUser

from .state import STATE

MAX_RECONNECTS = 5  # per stream; then the stream is given up (and counted as a failure)
MAX_BUFFER = 1 << 20  # a server that never sends a blank line must not eat our memory


@dataclass
class Event:
    id: str | None
    data: str


class SseParser:
    """Feed bytes, get complete events (comments/heartbeats are skipped)."""

    def __init__(self) -> None:
        self.buf = b""

    def feed(self, chunk: bytes) -> Iterator[Event]:
        self.buf += chunk.replace(b"\r\n", b"\n")
        if len(self.buf) > MAX_BUFFER:
            raise ValueError("SSE event larger than 1 MiB")
        while b"\n\n" in self.buf:
            block, self.buf = self.buf.split(b"\n\n", 1)
            ev_id: str | None = None
            data: list[str] = []
            for line in block.decode("utf-8", "replace").split("\n"):
                if not line or line.startswith(":"):
                    continue
                field, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if field == "id":
                    ev_id = value
                elif field == "data":
                    data.append(value)
            if ev_id is not None or data:
                yield Event(ev_id, "\n".join(data))


def _fire(user: HttpUser, name: str, ms: float, exc: Exception | None = None) -> None:
    user.environment.events.request.fire(
        request_type="SSE",
        name=name,
        response_time=ms,
        response_length=0,
        exception=exc,
        context={},
        response=None,
    )


def run_stream(user: HttpUser, events: int, interval_ms: int) -> None:
    """Hold one stream of `events` events to its end; resume with Last-Event-ID if it drops."""
    path = f"/sse/stream?events={events}&interval_ms={interval_ms}"
    last_id = 0
    reconnects = 0
    t_request = time.perf_counter()
    t_prev: float | None = None
    while last_id < events:
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if last_id:
            headers["Last-Event-ID"] = str(last_id)
        # This request's own event (time to response headers) is Locust's usual "GET" entry.
        with user.client.get(
            path, name="/sse/stream", headers=headers, stream=True, catch_response=True
        ) as resp:
            if resp.status_code != 200:
                resp.failure(f"status {resp.status_code}")
                return
            STATE.gauge_add("streams_held", 1)
            try:
                parser = SseParser()
                for chunk in resp.iter_content(chunk_size=None):
                    for ev in parser.feed(chunk):
                        now = time.perf_counter()
                        now_ns = time.time_ns()
                        if ev.id is not None and ev.id.isdigit():
                            last_id = int(ev.id)
                        STATE.count("sse_events")
                        if t_prev is None:
                            _fire(user, "sse first-event", (now - t_request) * 1000.0)
                        else:
                            # early arrivals (negative jitter) clamp to 0: a histogram has no sign
                            gap = (now - t_prev) * 1000.0 - interval_ms
                            _fire(user, "sse gap", max(0.0, gap))
                        t_prev = now
                        try:
                            sent_ns = int(json.loads(ev.data)["sent_ns"])
                            _fire(user, "sse delivery", max(0.0, (now_ns - sent_ns) / 1e6))
                        except (ValueError, KeyError, TypeError):
                            pass
            except Exception as exc:  # a dropped connection: resume below
                resp.success()  # the headers arrived fine; the drop is counted as a reconnect
                _fire(user, "sse stream", 0.0, exc)
            finally:
                STATE.gauge_add("streams_held", -1)
        if last_id >= events:
            return
        if reconnects >= MAX_RECONNECTS:
            _fire(user, "sse stream", 0.0, RuntimeError(f"gave up after {reconnects} reconnects"))
            return
        reconnects += 1
        STATE.count("reconnects")
