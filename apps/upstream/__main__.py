"""`python -m twinbench.apps.upstream --host 127.0.0.1 --port P`: the mock upstream on uvicorn.

One process, uvloop + httptools, no access log, no concurrency limit, a large accept
backlog: thousands of callers wait on it at once and it must never be what a benchmark
measures. SIGINT/SIGTERM stop it cleanly (exit status 0) after at most `--graceful-timeout`
seconds of letting in-flight requests finish.
"""

from __future__ import annotations

import argparse
import gc
import ipaddress
import resource
import signal
import sys
from types import FrameType

import uvicorn

from twinbench.apps.upstream.app import create_app

# The kernel caps the accept queue at net.core.somaxconn anyway (often 4096); asking for
# more costs nothing and lets a host with a raised somaxconn absorb a burst of connects.
BACKLOG = 16384
# Longer than any sane client pool's idle expiry (httpx: 5 s): the client must be the one
# to close an idle keep-alive connection, or a request sent just as the server closes it
# fails with a spurious "connection reset" that a benchmark would blame on the twin.
KEEP_ALIVE_S = 75
# When the hard limit is unlimited, the soft limit still cannot exceed fs.nr_open (2**20 by
# default), so aim for that.
_NOFILE_CAP = 1 << 20


def raise_nofile_limit() -> int:
    """Raise RLIMIT_NOFILE's soft limit to the hard limit; return the new soft limit.

    Every waiting caller holds a socket, so the usual soft limit of 1024 would refuse
    connections long before the CPU is busy.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = _NOFILE_CAP if hard == resource.RLIM_INFINITY else hard
    if soft == resource.RLIM_INFINITY or soft >= target:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):
        return soft
    return target


def tune_gc() -> None:
    """Make the cyclic garbage collector cheaper under thousands of open connections.

    Each waiting request keeps a few dozen container objects alive (protocol, parser,
    scope, task, coroutine, timer), and every full collection walks all of them while no
    timer fires. Measured at 5,000 concurrent waits this GC work was ~10 % of the mock's CPU
    time. Freezing the objects that exist after start-up (modules, classes) takes them out
    of every future collection, and a higher first-generation threshold makes collections
    rarer; reference cycles are still collected, so memory stays bounded.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)


def _loopback_host(value: str) -> str:
    # The mock has no authentication and will hold a connection for up to ~28 hours of
    # tokens on request: it only ever listens on the loopback interface.
    if value == "localhost":
        return value
    try:
        if ipaddress.ip_address(value).is_loopback:
            return value
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"{value!r} is not a loopback address")


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m twinbench.apps.upstream",
        description="Serve the twinbench mock upstream (/delay, /stream, /health).",
    )
    parser.add_argument("--host", type=_loopback_host, default="127.0.0.1", help="loopback address")
    parser.add_argument("--port", type=int, default=8100, help="TCP port (default 8100)")
    parser.add_argument(
        "--graceful-timeout",
        type=int,
        default=2,
        metavar="S",
        help="on SIGINT/SIGTERM, seconds to let in-flight requests finish (default 2)",
    )
    parser.add_argument("--log-level", default="warning", help="uvicorn log level")
    return parser.parse_args(argv)


def _ignore(signum: int, frame: FrameType | None) -> None:
    """Installed before uvicorn runs, see `main`."""


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    raise_nofile_limit()
    config = uvicorn.Config(
        create_app(),
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        # No WebSocket endpoint: an upgrade request is then served as plain HTTP (404).
        ws="none",
        lifespan="on",
        access_log=False,
        log_level=args.log_level,
        backlog=BACKLOG,
        limit_concurrency=None,
        timeout_keep_alive=KEEP_ALIVE_S,
        timeout_graceful_shutdown=args.graceful_timeout,
    )
    server = uvicorn.Server(config)
    tune_gc()
    # uvicorn shuts down gracefully on SIGINT/SIGTERM and then re-raises the signal with the
    # handler that was installed before it started: Python's defaults would turn that into a
    # KeyboardInterrupt traceback or a death by SIGTERM. A no-op handler makes the process
    # exit normally once the server has stopped.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _ignore)
    server.run()
    # `started` stays False when the socket could not be bound (port in use, ...).
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(main())
