"""A test-only locustfile whose event loop is blocked now and then, between requests.

A greenlet blocks the loop for 200 ms every 500 ms (CPU, not a cooperative sleep), so the
open model's sends fall due while nothing can run and start up to 200 ms late. Requests are
short and sparse (50/s of /json), so few are in flight while the loop is blocked: counted from
their actual send they would take a millisecond or two; counted from the intended send time,
as the plugin must (no coordinated omission), 40 % of them take far longer.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "loadtests"))

import gevent
from locust import FastHttpUser, events, task
from twinload import setup

HOG_S = 0.200
EVERY_S = 0.500
MAX_HOGS = 200  # bounded: 100 s at most, far beyond any test's run


def _hog_forever() -> None:
    for _ in range(MAX_HOGS):
        gevent.sleep(EVERY_S - HOG_S)
        end = time.perf_counter() + HOG_S
        while time.perf_counter() < end:
            pass


@events.test_start.add_listener
def _start_hogging(**_: Any) -> None:
    gevent.spawn(_hog_forever)


class LaggingUser(FastHttpUser):
    @task
    def get(self) -> None:
        self.client.get("/json")


setup("lagging", [LaggingUser])
