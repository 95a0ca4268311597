#!/usr/bin/env python
"""Capacity benchmark of the mock upstream (`make upstream-bench`). Not a test.

What it measures: whether the mock upstream (`python -m twinbench.apps.upstream`) can hold thousands
of slow requests at once without adding latency of its own, i.e. that it is never the
bottleneck when the twins' `GET /api/upstream?ms=M` is load-tested.

How: the mock runs as a child process pinned to one CPU (`--mock-cpu`, default 0); this
process pins itself to another (`--client-cpu`, default 1) and, for each concurrency level C
(`--concurrency 5000,10000`), opens C connections, each sending one `GET /delay?ms=D`
(`--delay-ms`, default 1000), and holds them all open at once. The client is raw asyncio
protocols on uvloop, one connection per request (`Connection: close`), so holding 10,000
connections costs it little.

The C requests start spread evenly over `--ramp-ms` (default 0.8×D: the last one starts
before the first one is answered, so all C wait on the mock together, which the
peak-in-flight figure confirms). `--ramp-ms 0` is a thundering herd instead: C connections
in one burst. A single Python process spends roughly 40 µs of CPU accepting and parsing
each new connection, so a burst of 5,000 queues for ~200 ms before the last one is even
read; that measures the burst, not the cost of waiting, which is why it is not the default.

Overhead is timed from the moment the request is written (after the TCP handshake, which the
kernel completes without the mock) to the last byte of the answer, so this client's own
scheduling delays before sending are not blamed on the mock. For each level it prints one
line:

- completed / failed requests (failures by kind: connect error, timeout, bad answer, ...)
  and the level's wall time;
- peak in-flight: the most requests sent and not yet answered at one moment (C means all C
  really were waiting on the mock together);
- overhead = observed latency − D as p50/p90/p99/max in ms: what the mock (plus loopback
  and this client's reading) adds to the requested delay;
- its p99 split in three (all from `time.time_ns()`, one clock for both processes):
  `in` (written → the mock's app is called: accept queue, parsing), `mock_side` (the mock's
  own `sent_ns − received_ns − D`: how late its timers fired), `out` (the mock answers →
  this client has read it);
- `connect_p99`: from starting the connect to the request being written (client side);
- the mock's peak RSS (sampled every 50 ms with psutil) and the CPU seconds it used
  during the level, and this client's CPU seconds.

Exit status: 1 if any level up to `--gate-concurrency` (5000) had a failed request or an
overhead p99 above `--max-p99-ms` (100); higher levels are informational. 2 on a setup
error (mock did not start, ...). Every level is bounded in count and time, and the whole
run by `--timeout`; the mock is killed at the end, also on Ctrl-C or SIGTERM (and the kernel
sends it SIGTERM should this process die without cleaning up).

Only loopback addresses are used. On a shared or loaded machine the figures are noisy: run
it two or three times.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import NoReturn, cast

import numpy as np
import psutil
import uvloop

REPO_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
MAX_CONCURRENCY = 20_000  # per level; also bounded by RLIMIT_NOFILE below
MAX_LEVELS = 6
MAX_DELAY_MS = 10_000
# Descriptors this process needs besides one socket per request (stdio, the event loop's
# epoll and self-pipe, psutil's /proc files).
FD_HEADROOM = 64
HEALTH_TIMEOUT_S = 20.0
RSS_SAMPLE_S = 0.05
PR_SET_PDEATHSIG = 1


def _positive_levels(text: str) -> list[int]:
    try:
        levels = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a comma-separated list of integers: {text!r}"
        ) from None
    if not levels or len(levels) > MAX_LEVELS:
        raise argparse.ArgumentTypeError(f"give 1..{MAX_LEVELS} levels")
    if any(not 1 <= c <= MAX_CONCURRENCY for c in levels):
        raise argparse.ArgumentTypeError(f"each level must be in 1..{MAX_CONCURRENCY}")
    return levels


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="upstream_capacity.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--concurrency",
        type=_positive_levels,
        default=[5000, 10000],
        metavar="C[,C...]",
        help="concurrent requests per level, run in order (default 5000,10000)",
    )
    parser.add_argument(
        "--delay-ms",
        type=int,
        default=1000,
        metavar="D",
        help="the delay each request asks the mock for (default 1000)",
    )
    parser.add_argument(
        "--ramp-ms",
        type=int,
        default=None,
        metavar="R",
        help="spread each level's request starts evenly over R ms (default 0.8×D, so that"
        " all C are in flight at once; 0 opens all C in one burst)",
    )
    parser.add_argument("--mock-cpu", type=int, default=0, help="CPU the mock is pinned to")
    parser.add_argument("--client-cpu", type=int, default=1, help="CPU this client is pinned to")
    parser.add_argument(
        "--gate-concurrency",
        type=int,
        default=5000,
        metavar="C",
        help="levels up to C must have no failure and p99 ≤ --max-p99-ms (default 5000)",
    )
    parser.add_argument(
        "--max-p99-ms", type=float, default=100.0, help="overhead p99 limit (default 100)"
    )
    parser.add_argument(
        "--pause-s",
        type=float,
        default=2.0,
        help="pause between levels so the previous level's sockets drain (default 2)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        metavar="S",
        help="bound on the whole run in seconds (default 300)",
    )
    args = parser.parse_args(argv)
    if not 0 <= args.delay_ms <= MAX_DELAY_MS:
        parser.error(f"--delay-ms must be in 0..{MAX_DELAY_MS}")
    if args.ramp_ms is None:
        args.ramp_ms = args.delay_ms * 4 // 5
    if not 0 <= args.ramp_ms <= 60_000:
        parser.error("--ramp-ms must be in 0..60000")
    if not 0 < args.timeout <= 3600:
        parser.error("--timeout must be in (0, 3600]")
    return args


# ----------------------------------------------------------------------------- the mock


def _raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = (1 << 20) if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _child_setup(cpu: int | None, parent_pid: int) -> Callable[[], None]:
    """preexec_fn for the mock: pin it, and have the kernel stop it if we die abruptly."""

    def setup() -> None:
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent_pid:  # we died before prctl took effect
            os._exit(1)

    return setup


def start_mock(port: int, cpu: int | None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "twinbench.apps.upstream", "--host", HOST, "--port", str(port)],
        cwd=REPO_ROOT,
        # Its own session: a Ctrl-C in the terminal reaches only this process, which then
        # stops the mock itself, in order.
        start_new_session=True,
        preexec_fn=_child_setup(cpu, os.getpid()),
    )


def wait_healthy(proc: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    url = f"http://{HOST}:{port}/health"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the mock exited with status {proc.returncode} at start-up")
        try:
            with urllib.request.urlopen(url, timeout=1.0) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.05)
    raise RuntimeError(f"the mock did not answer {url} within {HEALTH_TIMEOUT_S:.0f} s")


def stop_mock(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# ----------------------------------------------------------------------------- the client


@dataclass
class LevelStats:
    concurrency: int
    inflight: int = 0
    peak_inflight: int = 0
    overhead_ms: list[float] = field(default_factory=list)
    mock_overhead_ms: list[float] = field(default_factory=list)
    connect_ms: list[float] = field(default_factory=list)
    inbound_ms: list[float] = field(default_factory=list)
    outbound_ms: list[float] = field(default_factory=list)
    client_cpu_s: float = 0.0
    failures: Counter[str] = field(default_factory=Counter)
    wall_s: float = 0.0
    rss_peak: int = 0
    cpu_s: float = 0.0

    @property
    def failed(self) -> int:
        return sum(self.failures.values())


class _OneRequest(asyncio.Protocol):
    """One connection, one request, complete once Content-Length bytes of body arrived.

    A bare protocol rather than streams or an HTTP client library: it keeps the client's
    own per-request cost, which is part of the measured overhead, as small as possible.
    """

    def __init__(self, request: bytes, done: asyncio.Future[tuple[float, bytes]]) -> None:
        self.request = request
        self.done = done
        self.buf = bytearray()
        self.body_at = -1
        self.length = -1
        self.transport: asyncio.Transport | None = None
        self.sent_at = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)
        self.sent_at = time.perf_counter()
        self.sent_ns = time.time_ns()
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        self.end_ns = time.time_ns()
        self.buf += data
        if self.body_at < 0:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            self.body_at = end + 4
            for line in bytes(self.buf[:end]).split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    self.length = int(value)
            if self.length < 0:
                self._fail(ValueError("no content-length"))
                return
        if len(self.buf) - self.body_at >= self.length and not self.done.done():
            self.done.set_result((now, bytes(self.buf)))
            if self.transport is not None:
                self.transport.close()

    def _fail(self, exc: Exception) -> None:
        if not self.done.done():
            self.done.set_exception(exc)
        if self.transport is not None:
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_exception(exc or ConnectionError("closed before the full answer"))


async def _one_request(
    loop: asyncio.AbstractEventLoop,
    port: int,
    request: bytes,
    delay_ms: int,
    start_at: float,
    stats: LevelStats,
) -> None:
    if (wait := start_at - time.perf_counter()) > 0:
        await asyncio.sleep(wait)
    done: asyncio.Future[tuple[float, bytes]] = loop.create_future()
    t0 = time.perf_counter()
    try:
        transport, protocol = await loop.create_connection(
            lambda: _OneRequest(request, done), HOST, port
        )
    except OSError as exc:
        stats.failures[f"connect:{type(exc).__name__}"] += 1
        return
    t_conn = time.perf_counter()
    stats.inflight += 1
    stats.peak_inflight = max(stats.peak_inflight, stats.inflight)
    try:
        t_end, raw = await done
    except (OSError, ValueError) as exc:
        stats.failures[f"read:{type(exc).__name__}"] += 1
        return
    finally:
        stats.inflight -= 1
        # Only reached on cancellation (level timeout) with the connection still open.
        if not done.done():
            transport.abort()
    head, _, body = raw.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200 "):
        stats.failures[f"status:{head[9:12].decode(errors='replace')}"] += 1
        return
    try:
        answer = json.loads(body)
        ok = answer["delay_ms"] == delay_ms
    except (ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        stats.failures["bad_body"] += 1
        return
    stats.overhead_ms.append((t_end - protocol.sent_at) * 1000 - delay_ms)
    stats.connect_ms.append((t_conn - t0) * 1000)
    stats.inbound_ms.append((answer["received_ns"] - protocol.sent_ns) / 1e6)
    stats.outbound_ms.append((protocol.end_ns - answer["sent_ns"]) / 1e6)
    stats.mock_overhead_ms.append((answer["sent_ns"] - answer["received_ns"]) / 1e6 - delay_ms)


async def _sample_rss(proc: psutil.Process, stats: LevelStats) -> None:
    while True:
        with contextlib.suppress(psutil.Error):
            stats.rss_peak = max(stats.rss_peak, proc.memory_info().rss)
        await asyncio.sleep(RSS_SAMPLE_S)


def _cpu_seconds(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system)


async def run_level(
    port: int, mock: psutil.Process, concurrency: int, delay_ms: int, ramp_ms: int, budget_s: float
) -> LevelStats:
    loop = asyncio.get_running_loop()
    stats = LevelStats(concurrency)
    request = (
        f"GET /delay?ms={delay_ms} HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n\r\n"
    ).encode()
    sampler = asyncio.ensure_future(_sample_rss(mock, stats))
    cpu_before = _cpu_seconds(mock)
    client_cpu_before = time.process_time()
    t0 = time.perf_counter()
    step = ramp_ms / 1000 / concurrency
    tasks = [
        asyncio.ensure_future(_one_request(loop, port, request, delay_ms, t0 + i * step, stats))
        for i in range(concurrency)
    ]
    _, pending = await asyncio.wait(tasks, timeout=budget_s)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=5)
        stats.failures["timeout"] += len(pending)
    stats.wall_s = time.perf_counter() - t0
    sampler.cancel()
    stats.cpu_s = _cpu_seconds(mock) - cpu_before
    stats.client_cpu_s = time.process_time() - client_cpu_before
    with contextlib.suppress(psutil.Error):
        stats.rss_peak = max(stats.rss_peak, mock.memory_info().rss)
    return stats


def format_level(stats: LevelStats) -> str:
    line = (
        f"C={stats.concurrency:<6} completed={len(stats.overhead_ms):<6} failed={stats.failed:<5}"
        f" wall={stats.wall_s:6.2f}s peak_inflight={stats.peak_inflight:<6}"
    )
    if stats.overhead_ms:
        p50, p90, p99 = np.percentile(stats.overhead_ms, [50, 90, 99])
        mock_p99 = float(np.percentile(stats.mock_overhead_ms, 99))
        line += (
            f" overhead_ms p50={p50:.1f} p90={p90:.1f} p99={p99:.1f}"
            f" max={max(stats.overhead_ms):.1f} mock_side_p99={mock_p99:.1f}"
            f" in_p99={float(np.percentile(stats.inbound_ms, 99)):.1f}"
            f" out_p99={float(np.percentile(stats.outbound_ms, 99)):.1f}"
            f" connect_p99={float(np.percentile(stats.connect_ms, 99)):.1f}"
        )
    line += f" mock_rss_peak={stats.rss_peak / 2**20:.1f}MiB mock_cpu={stats.cpu_s:.2f}s"
    line += f" client_cpu={stats.client_cpu_s:.2f}s"
    if stats.failures:
        line += " failures=" + ",".join(f"{k}:{v}" for k, v in sorted(stats.failures.items()))
    return line


def passes_gate(stats: LevelStats, max_p99_ms: float) -> bool:
    if stats.failed or not stats.overhead_ms:
        return False
    return float(np.percentile(stats.overhead_ms, 99)) <= max_p99_ms


async def run_levels(args: argparse.Namespace, port: int, mock_pid: int, deadline: float) -> int:
    mock = psutil.Process(mock_pid)
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    gate_failed = False
    gate_seen = False
    for i, concurrency in enumerate(args.concurrency):
        if concurrency + FD_HEADROOM > nofile:
            print(
                f"C={concurrency:<6} skipped: needs {concurrency + FD_HEADROOM} descriptors,"
                f" RLIMIT_NOFILE is {nofile}",
                flush=True,
            )
            gate_failed |= concurrency <= args.gate_concurrency
            continue
        if i:
            await asyncio.sleep(args.pause_s)
        # A level gets the delay plus generous slack, and never more than the run has left.
        budget = min(args.delay_ms / 1000 + args.ramp_ms / 1000 + 30.0, deadline - time.monotonic())
        if budget <= args.delay_ms / 1000:
            print(f"C={concurrency:<6} skipped: the overall --timeout is used up", flush=True)
            gate_failed |= concurrency <= args.gate_concurrency
            continue
        stats = await run_level(port, mock, concurrency, args.delay_ms, args.ramp_ms, budget)
        print(format_level(stats), flush=True)
        if concurrency <= args.gate_concurrency:
            gate_seen = True
            gate_failed |= not passes_gate(stats, args.max_p99_ms)
    if gate_failed:
        print(
            f"FAIL: a level ≤ {args.gate_concurrency} had failures or an overhead p99 above"
            f" {args.max_p99_ms:g} ms",
            flush=True,
        )
        return 1
    if gate_seen:
        print(
            f"PASS: no failure and overhead p99 ≤ {args.max_p99_ms:g} ms up to"
            f" {args.gate_concurrency} concurrent requests",
            flush=True,
        )
    else:
        print(f"(no level ≤ {args.gate_concurrency}: the pass/fail gate was not evaluated)")
    return 0


def _on_sigterm(signum: int, frame: FrameType | None) -> NoReturn:
    # Unwind through the `finally` that stops the mock, like Ctrl-C does.
    raise KeyboardInterrupt


def _pick_cpus(args: argparse.Namespace) -> tuple[int | None, int | None]:
    available = os.sched_getaffinity(0)
    if {args.mock_cpu, args.client_cpu} <= available and args.mock_cpu != args.client_cpu:
        return args.mock_cpu, args.client_cpu
    print(
        f"note: CPUs {args.mock_cpu} and {args.client_cpu} are not both available"
        f" ({sorted(available)}); running unpinned",
        file=sys.stderr,
    )
    return None, None


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    deadline = time.monotonic() + args.timeout
    nofile = _raise_nofile()
    mock_cpu, client_cpu = _pick_cpus(args)
    if client_cpu is not None:
        os.sched_setaffinity(0, {client_cpu})
    port = _free_port()
    print(
        f"mock upstream on {HOST}:{port} (CPU {mock_cpu}), client on CPU {client_cpu};"
        f" GET /delay?ms={args.delay_ms}, levels {args.concurrency}, ramp {args.ramp_ms} ms,"
        f" RLIMIT_NOFILE {nofile}",
        flush=True,
    )
    proc = start_mock(port, mock_cpu)
    try:
        try:
            wait_healthy(proc, port)
        except RuntimeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        with contextlib.suppress(psutil.Error):
            rss = psutil.Process(proc.pid).memory_info().rss
            print(f"mock idle RSS {rss / 2**20:.1f} MiB", flush=True)
        status = uvloop.run(run_levels(args, port, proc.pid, deadline))
        if proc.poll() is not None:
            print(f"FAIL: the mock exited during the run (status {proc.returncode})")
            return 1
        return status
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        stop_mock(proc)


if __name__ == "__main__":
    sys.exit(main())
