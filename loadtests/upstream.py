"""I/O-bound: GET /api/upstream?ms=M, the twin waiting on the mock upstream.

The delays (``--tb-upstream-ms``, default "50,500,2000", or the plan's params.upstream_ms) are
mixed evenly: each user cycles through them from a random starting point. One request name per
delay, so each gets its own histogram.
"""

from __future__ import annotations

import random
from typing import Any

from locust import FastHttpUser, task
from twinload import setup
from twinload.params import int_list, param

DEFAULT_MS = "50,500,2000"


def _options(parser: Any) -> None:
    parser.add_argument(
        "--tb-upstream-ms", default=DEFAULT_MS, help="upstream delays in ms, comma separated"
    )


class UpstreamUser(FastHttpUser):
    # the slowest delay must not hit the client's timeout
    network_timeout = 60.0

    @task
    def upstream(self) -> None:
        delays = int_list(param(self, "upstream_ms", DEFAULT_MS))
        k = getattr(self, "_k", None)
        if k is None:
            k = random.randrange(len(delays))
        self._k = k + 1
        ms = delays[k % len(delays)]
        self.client.get(f"/api/upstream?ms={ms}", name=f"/api/upstream?ms={ms}")


setup("upstream", [UpstreamUser], extra_options=_options)
