"""Many WebSocket connections to /ws/echo (closed model only).

Each user holds one connection and loops: send a text containing a counter, wait for the
echo. Records (request type "WS"): ``ws connect`` (handshake), ``ws-echo rtt`` (per message).
Counters ``ws_messages`` (``rates.ws_messages`` = messages/s), ``reconnects``; gauge
``connections_held``. ``--tb-ws-payload`` pads each message to that many bytes (default 32).
``--tb-ws-interval-ms`` paces each session to one message per interval (default 0: as fast
as the echo comes back), for latency under many sessions rather than one loop's maximum: an
unpaced loop saturates whichever side is slower, usually the load generator.
"""

from __future__ import annotations

import random
import time
from typing import Any

from locust import User, task
from twinload import STATE, setup
from twinload.params import param
from twinload.ws import close, connect, fire

MAX_STALE = 100  # unexpected frames skipped while waiting for one echo before giving up


def _options(parser: Any) -> None:
    parser.add_argument("--tb-ws-payload", type=int, default=32, help="bytes per echo message")
    parser.add_argument(
        "--tb-ws-interval-ms", type=float, default=0.0, help="one message per session per interval"
    )


class WsEchoUser(User):
    def on_start(self) -> None:
        self.ws: Any = None
        self.counter = 0
        self.ws = connect(self, "/ws/echo")

    def _pace(self) -> None:
        """With --tb-ws-interval-ms, send on this session's own beat: a random phase, so 100
        sessions do not all send in the same millisecond (a burst no real clients make)."""
        interval = float(param(self, "ws_interval_ms", 0.0)) / 1000.0
        if interval <= 0:
            return
        now = time.perf_counter()
        due = getattr(self, "_due", None)
        if due is None:
            due = now + random.uniform(0.0, interval)
        if due > now:
            time.sleep(due - now)  # gevent-patched: only this user waits
        self._due = max(due, time.perf_counter() - interval) + interval

    def on_stop(self) -> None:
        close(self.ws)
        self.ws = None

    @task
    def echo(self) -> None:
        if self.ws is None:
            STATE.count("reconnects")
            self.ws = connect(self, "/ws/echo")
            if self.ws is None:
                time.sleep(0.1)  # server refusing: do not spin
                return
        self._pace()
        self.counter += 1
        head = f"{self.counter}:"
        size = int(param(self, "ws_payload", 32))
        text = head + "x" * max(0, size - len(head))
        t0 = time.perf_counter()
        try:
            self.ws.send(text)
            for _ in range(MAX_STALE):
                if self.ws.recv() == text:
                    break
            else:
                raise RuntimeError("echo not received")
        except Exception as exc:
            fire(self, "ws-echo rtt", (time.perf_counter() - t0) * 1000.0, exc)
            close(self.ws)
            self.ws = None
            return
        fire(self, "ws-echo rtt", (time.perf_counter() - t0) * 1000.0, length=len(text))
        STATE.count("ws_messages")


setup(
    "ws_echo",
    [WsEchoUser],
    gauges=("connections_held",),
    counters=("ws_messages", "reconnects"),
    open_model=False,
    setup_requests=("WS ws connect",),
    extra_options=_options,
)
