"""WebSocket connections per second to /ws/echo (closed model only).

Each user loops: open a connection (the handshake, ``ws connect``), send one text and wait
for its echo (``ws-echo rtt``), close. The figure is handshakes per second: the
"WebSocket connections: 500/s → 2,000/s" claim is about the rate of new connections, which
ws_echo (connections held open) does not measure. Counter ``connects``.
"""

from __future__ import annotations

import time
from typing import Any

from locust import User, task
from twinload import STATE, setup
from twinload.ws import close, connect, fire


class WsConnectUser(User):
    @task
    def connect_echo_close(self) -> None:
        ws: Any = connect(self, "/ws/echo")
        if ws is None:
            time.sleep(0.1)  # server refusing: do not spin
            return
        STATE.count("connects")
        t0 = time.perf_counter()
        try:
            ws.send("ping")
            if ws.recv() != "ping":
                raise RuntimeError("echo not received")
        except Exception as exc:
            fire(self, "ws-echo rtt", (time.perf_counter() - t0) * 1000.0, exc)
        else:
            fire(self, "ws-echo rtt", (time.perf_counter() - t0) * 1000.0, length=4)
        finally:
            close(ws)


setup(
    "ws_connect",
    [WsConnectUser],
    gauges=("connections_held",),
    counters=("connects",),
    open_model=False,
)
