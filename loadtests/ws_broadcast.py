"""Fan-out on /ws/broadcast (closed model only; run the target with ONE worker process).

Every user holds one connection and receives in a background greenlet. A share of the users
(``--tb-broadcast-senders``, default 0.1, at least one per process) also send
``<time.time_ns()>:<sender>`` every ``--tb-broadcast-interval-ms`` (default 200). Each receiver
records ``ws-broadcast delivery`` = receive time - send time (wall clock: exact on one machine,
only as good as clock sync across machines). Counters ``ws_sent``, ``ws_received``; gauge
``connections_held``.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import gevent
from locust import User, task
from twinload import STATE, setup
from twinload.params import param
from twinload.ws import close, connect, fire

_index = itertools.count()  # per process: user k sends when k % round(1/share) == 0


def _options(parser: Any) -> None:
    parser.add_argument(
        "--tb-broadcast-senders", type=float, default=0.1, help="share of users that send"
    )
    parser.add_argument(
        "--tb-broadcast-interval-ms", type=int, default=200, help="ms between a sender's messages"
    )


class WsBroadcastUser(User):
    # Set before on_start connects: a user stopped during its handshake (the run ends, or a
    # slow server) still reaches on_stop, which must find nothing to close.
    ws: Any = None
    receiver: gevent.Greenlet | None = None

    def on_start(self) -> None:
        share = float(param(self, "broadcast_senders", 0.1))
        every = max(1, round(1 / share)) if share > 0 else 0
        self.sender = every > 0 and next(_index) % every == 0
        self.ws = connect(self, "/ws/broadcast")
        if self.ws is not None:
            self.receiver = gevent.spawn(self._receive, self.ws)

    def on_stop(self) -> None:
        if self.receiver is not None:
            self.receiver.kill(block=False)  # no greenlet outlives its user
            self.receiver = None
        close(self.ws)
        self.ws = None

    def _receive(self, ws: Any) -> None:
        while True:  # bounded by the connection: a closed socket raises and ends the loop
            try:
                msg = ws.recv()
            except Exception as exc:
                fire(self, "ws-broadcast recv", 0.0, exc)
                return
            now_ns = time.time_ns()
            STATE.count("ws_received")
            try:
                sent_ns = int(str(msg).split(":", 1)[0])
            except ValueError:
                continue
            fire(self, "ws-broadcast delivery", max(0.0, (now_ns - sent_ns) / 1e6))

    @task
    def tick(self) -> None:
        interval = int(param(self, "broadcast_interval_ms", 200)) / 1000.0
        if self.ws is None or self.receiver is None or self.receiver.dead:
            self.on_stop()
            STATE.count("reconnects")
            self.on_start()
            if self.ws is None:
                gevent.sleep(0.1)
                return
        if self.sender:
            try:
                self.ws.send(f"{time.time_ns()}:{id(self)}")
                STATE.count("ws_sent")
            except Exception as exc:
                fire(self, "ws-broadcast send", 0.0, exc)
        gevent.sleep(interval)


setup(
    "ws_broadcast",
    [WsBroadcastUser],
    gauges=("connections_held",),
    counters=("ws_sent", "ws_received", "reconnects"),
    open_model=False,
    setup_requests=("WS ws connect",),
    extra_options=_options,
)
