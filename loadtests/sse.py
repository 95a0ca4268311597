"""Many concurrent SSE streams: /sse/stream?events=E&interval_ms=I (closed model only).

Records (request type "SSE"): ``sse first-event`` (request start to first event),
``sse gap`` (time between consecutive events minus I, clamped at 0), ``sse delivery``
(receive wall clock minus the event's ``sent_ns``; meaningful on one machine). Counters:
``sse_events`` (``rates.sse_events`` is events/s), ``reconnects``; gauge ``streams_held``.
"""

from __future__ import annotations

from typing import Any

from locust import HttpUser, task
from twinload import setup
from twinload.params import param
from twinload.sse import run_stream

DEFAULT_EVENTS = 20
DEFAULT_INTERVAL_MS = 100


def _options(parser: Any) -> None:
    parser.add_argument("--tb-sse-events", type=int, default=DEFAULT_EVENTS, help="events/stream")
    parser.add_argument(
        "--tb-sse-interval-ms", type=int, default=DEFAULT_INTERVAL_MS, help="ms between events"
    )


class SseUser(HttpUser):
    # requests + urllib3 deliver each chunk as it arrives (see twinload/sse.py)
    @task
    def stream(self) -> None:
        events = int(param(self, "sse_events", DEFAULT_EVENTS))
        interval = int(param(self, "sse_interval_ms", DEFAULT_INTERVAL_MS))
        run_stream(self, events, interval)


setup(
    "sse",
    [SseUser],
    gauges=("streams_held",),
    counters=("sse_events", "reconnects"),
    open_model=False,
    extra_options=_options,
)
