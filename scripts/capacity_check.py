"""Does the report's capacity estimate hold? `make capacity-check`.

For each target and endpoint, pinned to CPU 0 with the load on CPU 1:

(a) `twinbench run` as the report's cells are run (closed model, 16 users, 3 repeats): on two
    cores Locust cannot saturate a fast target, so these cells are often load-generator-bound,
    and the report estimates the target's capacity from them: CPUs given × 1e6 / CPU µs per
    request (twinbench.analysis.estimate, read here through the same analysis the report
    uses; one estimate per repeat: the figure is their mean, the interval their range);
(b) `twinbench serve` the same target, saturate it with wrk (pinned to CPU 1), record req/s.

It prints, per target and endpoint: the estimate [its range over repeats], how busy the
target's CPU was in the cells it comes from, estimate / wrk (goal: within ±10 %); with a
ladder (--users 4,16,64) also the candidate that extrapolates CPU per request to a fully
busy target (twinbench.analysis.estimate.saturated_repeats) and its ratio to wrk; then wrk's
req/s with the server's own CPU use and CPU µs per request under wrk (psutil, the server's
process tree), which is what the estimate tries to predict.
Bounded: every step has a time-out and the whole check stops starting new steps
after --budget-s (default 600 s). Loopback only. Needs `wrk` (scripts/system-deps.sh
installs it) and `taskset`. Run it alone on the machine: other work on CPU 0 inflates both.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TWINBENCH = [sys.executable, "-m", "twinbench"]
TARGETS = ("fastapi-uvicorn", "flask-gunicorn-gevent", "flask-gunicorn-sync")
ENDPOINTS = {"json": "/json", "plaintext": "/plaintext", "db": "/db"}
TOLERANCE = 0.10


@dataclass(frozen=True)
class Estimate:
    mean: float
    low: float
    high: float
    repeats: int
    loader_bound: int = 0  # cells the load generator could not drive to the target's limit
    util: float | None = None  # how busy the target's CPU was in those cells (mean share)
    # The candidate extrapolated to a fully busy target over the run's levels
    # (twinbench.analysis.estimate.saturated_repeats): mean, low, high; None without a ladder.
    fit: tuple[float, float, float] | None = None


@dataclass(frozen=True)
class Saturated:
    """wrk's side of a cell: req/s, and the server's own CPU over wrk's window."""

    rps: float | None
    util: float | None = None  # the server's CPU seconds per second (1.0: one CPU busy)
    cpu_us: float | None = None  # the server's CPU µs per request under wrk


def wrk_rps(output: str) -> float | None:
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    return float(match.group(1)) if match else None


def verdict(ratio: float | None) -> str:
    if ratio is None:
        return "n/a"
    return "ok" if round(abs(ratio - 1), 6) <= TOLERANCE else "off"


def ratio_text(value: float | None, rps: float | None) -> str:
    return f"{value / rps:.2f} {verdict(value / rps)}" if value and rps else "n/a"


def table(rows: list[tuple[str, str, Estimate | None, Saturated]]) -> str:
    """One line per cell: the report's estimate (the highest usable level, single-level CPU
    per request) with the target's utilisation there, the ladder fit where the run had
    several levels, and wrk's req/s with the server's own utilisation and CPU per request."""
    lines = [
        f"{'target':<22} {'endpoint':<10} {'estimate req/s [range]':>36} {'util':>5} "
        f"{'est/wrk':>8} {'fit req/s':>9} {'fit/wrk':>8} {'wrk req/s':>10} {'util':>5} "
        f"{'µs/req':>7}",
    ]
    for target, endpoint, est, sat in rows:
        shown = f"{est.mean:,.0f} [{est.low:,.0f}–{est.high:,.0f}]" if est else "no usable cell"
        if est and est.loader_bound:
            shown = f"{est.loader_bound}× bound  " + shown
        util = f"{est.util:.0%}" if est and est.util is not None else "n/a"
        fit = est.fit[0] if est and est.fit else None
        fit_txt = f"{fit:,.0f}" if fit else "n/a"
        wrk_txt = f"{sat.rps:,.0f}" if sat.rps else "n/a"
        wrk_util = f"{sat.util:.0%}" if sat.util is not None else "n/a"
        wrk_us = f"{sat.cpu_us:.0f}" if sat.cpu_us is not None else "n/a"
        lines.append(
            f"{target:<22} {endpoint:<10} {shown:>36} {util:>5} "
            f"{ratio_text(est.mean if est else None, sat.rps):>8} {fit_txt:>9} "
            f"{ratio_text(fit, sat.rps):>8} {wrk_txt:>10} {wrk_util:>5} {wrk_us:>7}"
        )
    return "\n".join(lines)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_serving(proc: subprocess.Popen[str], deadline: float) -> bool:
    """Until `twinbench serve` prints its "serving ..." line (after its health check)."""
    assert proc.stdout is not None
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([proc.stdout], [], [], left)
        if not ready:
            return False
        line = proc.stdout.readline()
        if not line:
            return False
        if line.startswith("serving "):
            return True
    return False


def measure_cpu(target: str, scenarios: list[str], users: str, database: str, out: Path) -> Path:
    cmd = [
        *TWINBENCH, "run", "--no-progress", "--targets", target,
        "--scenarios", ",".join(scenarios), "--users", users, "--repeats", "3",
        "--warmup-s", "0.5", "--measure-s", "2.25", "--target-cpus", "0",
        "--loader-cpus", "1", "--database", database, "--out", str(out),
    ]  # fmt: skip
    levels = len(users.split(","))
    subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=240 * levels, check=False)
    return out


def report_estimates(folder: Path) -> dict[tuple[str, str], Estimate]:
    """(target, scenario) → the estimate the report would print for this run's cells."""
    from twinbench.analysis.derive import analyse  # the report's own analysis
    from twinbench.analysis.estimate import saturated_repeats
    from twinbench.results.store import load_run

    if not (folder / "run.json").exists():
        return {}
    index = analyse(load_run(folder))
    found = {}
    for (scenario, target), est in index.estimates.items():
        reps = est.repeats
        fitted = saturated_repeats(index, scenario, target)
        fit = (statistics.fmean(fitted), min(fitted), max(fitted)) if fitted else None
        found[(target, scenario)] = Estimate(
            statistics.fmean(reps), min(reps), max(reps), len(reps), est.loader_bound,
            est.target_util, fit,
        )  # fmt: skip
    return found


def wrk_requests(output: str) -> int | None:
    match = re.search(r"(\d+) requests in", output)
    return int(match.group(1)) if match else None


def _server_cpu_s(serve_pid: int) -> float:
    """CPU seconds of the server's process tree under `twinbench serve` (not the wrapper, not
    the mock upstream it starts beside the server)."""
    import psutil  # a twinbench dependency, so in its venv

    total = 0.0
    for proc in psutil.Process(serve_pid).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if "twinbench.apps.upstream" not in " ".join(proc.cmdline()):
                times = proc.cpu_times()
                total += times.user + times.system
    return total


def saturate(target: str, paths: list[str], database: str, seconds: int) -> dict[str, Saturated]:
    port = _free_port()
    cmd = [
        *TWINBENCH, "serve", target, "--cpus", "0", "--port", str(port),
        "--database", database,
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    found: dict[str, Saturated] = {}
    try:
        if not _wait_serving(proc, time.monotonic() + 60):
            return {p: Saturated(None) for p in paths}
        for path in paths:
            url = f"http://127.0.0.1:{port}{path}"
            wrk = ["taskset", "-c", "1", "wrk", "-t1", "-c64"]
            subprocess.run([*wrk, "-d2s", url], capture_output=True, timeout=30, check=False)
            cpu0, t0 = _server_cpu_s(proc.pid), time.monotonic()
            done = subprocess.run(
                [*wrk, f"-d{seconds}s", url], capture_output=True, text=True,
                timeout=seconds + 30, check=False,
            )  # fmt: skip
            cpu, wall = _server_cpu_s(proc.pid) - cpu0, time.monotonic() - t0
            count = wrk_requests(done.stdout)
            found[path] = Saturated(
                wrk_rps(done.stdout), cpu / wall, cpu / count * 1e6 if count else None
            )
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--endpoints", default=",".join(ENDPOINTS))
    parser.add_argument(
        "--users", default="16",
        help="closed-model users for (a); several (e.g. 4,16,64) make a ladder, and the table "
        "then shows the fit to a fully busy target beside the report's estimate",
    )  # fmt: skip
    parser.add_argument("--wrk-seconds", type=int, default=8)
    parser.add_argument("--budget-s", type=float, default=600)
    args = parser.parse_args()
    if shutil.which("wrk") is None or shutil.which("taskset") is None:
        print("capacity-check needs wrk and taskset (bash scripts/system-deps.sh as root)")
        return 2
    targets = args.targets.split(",")
    scenarios = args.endpoints.split(",")
    started = time.monotonic()
    rows: list[tuple[str, str, Estimate | None, Saturated]] = []
    with tempfile.TemporaryDirectory(prefix="twinbench-capacity-") as tmp:
        database = f"sqlite:///{tmp}/capacity.sqlite3"
        subprocess.run([*TWINBENCH, "db", "init", "--database", database], cwd=ROOT,
                       capture_output=True, check=True, timeout=120)  # fmt: skip
        for i, target in enumerate(targets):
            if time.monotonic() - started > args.budget_s:
                print(f"[{time.monotonic() - started:5.0f} s] budget spent: {target} skipped")
                rows += [(target, s, None, Saturated(None)) for s in scenarios]
                continue
            print(f"[{time.monotonic() - started:5.0f} s] {target}: the report's cells, "
                  f"{args.users} users ({', '.join(scenarios)}, 3 repeats)",
                  flush=True)  # fmt: skip
            folder = measure_cpu(target, scenarios, args.users, database, Path(tmp) / f"run{i}")
            found = report_estimates(folder)
            print(f"[{time.monotonic() - started:5.0f} s] {target}: wrk, {args.wrk_seconds} s "
                  f"per endpoint", flush=True)  # fmt: skip
            sat = saturate(target, [ENDPOINTS[s] for s in scenarios], database, args.wrk_seconds)
            for s in scenarios:
                est = found.get((target, s))
                got = sat.get(ENDPOINTS[s], Saturated(None))
                rows.append((target, s, est, got))
                print(f"    {s}: estimate {est.mean:,.0f}/s" if est else f"    {s}: no valid cell",
                      f"wrk {got.rps or 0:,.0f}/s", flush=True)  # fmt: skip
    print()
    print(f"Capacity from CPU time per request vs wrk, one CPU (goal: within ±{TOLERANCE:.0%})")
    print(table(rows))
    print(f"({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
