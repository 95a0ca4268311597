"""Wait until a target answers promptly before a phase's users start (plan.Phase.settle_url).

When Locust stops a phase's users, the requests they had sent are not withdrawn: a server
with a bounded worker pool (gunicorn sync: 3 workers) keeps answering the queued ones, which
can take tens of seconds after an overloaded phase. A phase that starts during that drain
measures the backlog, not its own load. So: probe the URL on a fresh connection until one
answer comes back within `FAST_S`, for at most the plan's settle_s. Runs inside Locust (gevent
has patched sockets, so the probe only blocks this greenlet).
"""

from __future__ import annotations

import contextlib
import time
import urllib.error
import urllib.request

FAST_S = 0.1  # an idle server answers its health path in well under this
PROBE_EVERY_S = 0.25


def wait_quiet(url: str, max_s: float) -> dict[str, float | bool]:
    """{"waited_s": seconds spent, "settled": whether a prompt answer came} (bounded)."""
    start = time.perf_counter()
    deadline = start + max_s
    while True:
        t0 = time.perf_counter()
        ok = False
        with contextlib.suppress(OSError, urllib.error.URLError, ValueError):
            # Any HTTP answer counts (even 503 not-ready): the point is that it came quickly.
            try:
                with urllib.request.urlopen(url, timeout=FAST_S) as resp:
                    resp.read()
                ok = True
            except urllib.error.HTTPError:
                ok = True
        now = time.perf_counter()
        if ok and now - t0 <= FAST_S:
            return {"waited_s": round(now - start, 3), "settled": True}
        if now >= deadline:
            return {"waited_s": round(now - start, 3), "settled": False}
        time.sleep(max(0.0, min(PROBE_EVERY_S - (now - t0), deadline - now)))
