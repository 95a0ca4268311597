"""Does the report's capacity estimate hold? `make capacity-check`.

For each target and endpoint, pinned to CPU 0 with the load on CPU 1, in rounds:

    wrk, the report's cells, wrk, the report's cells, wrk, ...   (--rounds, default 3)

(a) the report's cells: `twinbench run` as the report's cells are run (closed model, 16
    users, --repeats per round): on two cores Locust cannot saturate a fast target, so these
    cells are often load-generator-bound, and the report estimates the target's capacity
    from them: CPUs given × 1e6 / CPU µs per request (twinbench.analysis.estimate, read here
    through the same analysis the report uses; one estimate per repeat);
(b) wrk: the same target, served once by `twinbench serve` (idle while the cells run their
    own servers), saturated by wrk (pinned to CPU 1) with as many connections as the cells
    had users: the estimate is the capacity at the cells' concurrency, and a server's CPU
    per request moves with concurrency.

The VM's speed drifts (wrk on the same target: 12,058, 7,069 and 9,811 req/s within an
hour), so each round's estimate is divided by the mean of the wrk runs right before and
after it, and a cell's est/wrk is the geometric mean of its rounds' ratios.

It prints, per target and endpoint: the estimate [its range over all repeats], how busy the
target's CPU was in the cells it comes from, est/wrk (goal: within ±10 %); with a ladder
(--users 4,16,64) also the candidate that extrapolates CPU per request to a fully busy
target (twinbench.analysis.estimate.saturated_repeats) and its ratio to wrk; then wrk's
req/s with the server's own CPU use and CPU µs per request under wrk (psutil, the server's
process tree), which is what the estimate tries to predict.
Bounded: every step has a time-out and the whole check stops starting new cells after
--budget-s (default 600 s). Loopback only. Needs `wrk` (scripts/system-deps.sh installs it)
and `taskset`. Run it alone on the machine: other work on CPU 0 inflates both.
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
from collections.abc import Iterator
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


def ratio_text(ratio: float | None) -> str:
    return f"{ratio:.2f} {verdict(ratio)}" if ratio else "n/a"


@dataclass(frozen=True)
class Row:
    """One line of the table: a target × endpoint over its rounds (`combine`)."""

    target: str
    endpoint: str
    estimate: Estimate | None
    wrk: Saturated
    ratio: float | None = None  # est/wrk, each round against the wrk runs either side of it
    fit_ratio: float | None = None  # the same for the ladder fit


def table(rows: list[Row]) -> str:
    """One line per cell: the report's estimate (the highest usable level, single-level CPU
    per request) with the target's utilisation there, the ladder fit where the run had
    several levels, and wrk's req/s with the server's own utilisation and CPU per request."""
    lines = [
        f"{'target':<22} {'endpoint':<10} {'estimate req/s [range]':>36} {'util':>5} "
        f"{'est/wrk':>8} {'fit req/s':>9} {'fit/wrk':>8} {'wrk req/s':>10} {'util':>5} "
        f"{'µs/req':>7}",
    ]
    for row in rows:
        est, sat = row.estimate, row.wrk
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
            f"{row.target:<22} {row.endpoint:<10} {shown:>36} {util:>5} "
            f"{ratio_text(row.ratio):>8} {fit_txt:>9} {ratio_text(row.fit_ratio):>8} "
            f"{wrk_txt:>10} {wrk_util:>5} {wrk_us:>7}"
        )
    within = [r.ratio for r in rows if r.ratio]
    ok = sum(verdict(r) == "ok" for r in within)
    lines.append(f"within ±{TOLERANCE:.0%}: {ok} of {len(within)}")
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


def measure_cpu(
    target: str, scenarios: list[str], users: str, database: str, out: Path, repeats: int = 3
) -> Path:
    cmd = [
        *TWINBENCH, "run", "--no-progress", "--targets", target,
        "--scenarios", ",".join(scenarios), "--users", users, "--repeats", str(repeats),
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


@contextlib.contextmanager
def served(target: str, database: str) -> Iterator[tuple[int, int] | None]:
    """`twinbench serve` the target pinned to CPU 0 for wrk: (port, pid), or None if it did
    not start. It stays up, idle, while the report's cells run their own servers beside it."""
    port = _free_port()
    cmd = [
        *TWINBENCH, "serve", target, "--cpus", "0", "--port", str(port),
        "--database", database,
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        yield (port, proc.pid) if _wait_serving(proc, time.monotonic() + 60) else None
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def wrk(server: tuple[int, int] | None, path: str, seconds: float, connections: int) -> Saturated:
    """One wrk run (pinned to CPU 1) on the served target, with the server's own CPU over
    wrk's window."""
    if server is None:
        return Saturated(None)
    port, pid = server
    url = f"http://127.0.0.1:{port}{path}"
    cpu0, t0 = _server_cpu_s(pid), time.monotonic()
    done = subprocess.run(
        ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", url],
        capture_output=True, text=True, timeout=seconds + 30, check=False,
    )  # fmt: skip
    cpu, wall = _server_cpu_s(pid) - cpu0, time.monotonic() - t0
    count = wrk_requests(done.stdout)
    return Saturated(wrk_rps(done.stdout), cpu / wall, cpu / count * 1e6 if count else None)


@dataclass(frozen=True)
class Round:
    """The report's cells for one endpoint between two wrk runs of the same endpoint: the
    machine's speed drifts (up to 1.7× within an hour here), so each estimate is compared
    with the wrk runs right before and after it, not with one wrk run minutes away."""

    estimate: Estimate | None
    before: Saturated
    after: Saturated

    @property
    def wrk_rps(self) -> float | None:
        both = [s.rps for s in (self.before, self.after) if s.rps]
        return statistics.fmean(both) if both else None

    @property
    def ratio(self) -> float | None:
        rps = self.wrk_rps
        return self.estimate.mean / rps if self.estimate and rps else None

    @property
    def fit_ratio(self) -> float | None:
        rps = self.wrk_rps
        fit = self.estimate.fit if self.estimate else None
        return fit[0] / rps if fit and rps else None


def combine(target: str, endpoint: str, rounds: list[Round]) -> Row:
    """One line of the table from a cell's rounds: the estimate over all their repeats, wrk
    over all its runs, and est/wrk as the geometric mean of the rounds' own ratios."""
    ests = [r.estimate for r in rounds if r.estimate]
    est = None
    if ests:
        fits = [e.fit for e in ests if e.fit]
        utils = [e.util for e in ests if e.util is not None]
        est = Estimate(
            statistics.fmean(e.mean for e in ests), min(e.low for e in ests),
            max(e.high for e in ests), sum(e.repeats for e in ests),
            sum(e.loader_bound for e in ests), statistics.fmean(utils) if utils else None,
            (statistics.fmean(f[0] for f in fits), min(f[1] for f in fits),
             max(f[2] for f in fits)) if fits else None,
        )  # fmt: skip
    # Consecutive rounds share a wrk run (one round's `after` is the next one's `before`).
    runs = [rounds[0].before, *(r.after for r in rounds)] if rounds else []
    got = [s for s in runs if s.rps]
    sat = Saturated(
        _mean([s.rps for s in got]), _mean([s.util for s in got]), _mean([s.cpu_us for s in got])
    )
    return Row(target, endpoint, est, sat, _geomean([r.ratio for r in rounds]),
               _geomean([r.fit_ratio for r in rounds]))  # fmt: skip


def _mean(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return statistics.fmean(kept) if kept else None


def _geomean(values: list[float | None]) -> float | None:
    kept = [v for v in values if v]
    return statistics.geometric_mean(kept) if kept else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--endpoints", default=",".join(ENDPOINTS))
    parser.add_argument(
        "--users", default="16",
        help="closed-model users for (a); several (e.g. 4,16,64) make a ladder, and the table "
        "then shows the fit to a fully busy target beside the report's estimate",
    )  # fmt: skip
    parser.add_argument(
        "--rounds", type=int, default=3,
        help="per target × endpoint: wrk, the report's cells, wrk, ... this many times",
    )  # fmt: skip
    parser.add_argument("--repeats", type=int, default=2, help="repeats per round's cells")
    parser.add_argument("--wrk-seconds", type=float, default=4)
    parser.add_argument(
        "--wrk-connections", type=int, default=None,
        help="wrk's connections [the cells' users, the top level of a ladder]: the estimate "
        "is the capacity at the cells' concurrency, and a server's CPU per request moves with "
        "concurrency (batching lowers it; a thread pool's contention raises it)",
    )  # fmt: skip
    parser.add_argument("--budget-s", type=float, default=600)
    args = parser.parse_args()
    targets = args.targets.split(",")
    scenarios = args.endpoints.split(",")
    users = args.users.split(",")
    if not all(u.isdigit() and int(u) > 0 for u in users):
        parser.error(f"--users {args.users}: positive whole numbers, e.g. 16 or 4,16,64")
    for name in ("rounds", "repeats", "wrk_seconds", "wrk_connections"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            parser.error(f"--{name.replace('_', '-')} {value:g}: must be positive")
    unknown = [s for s in scenarios if s not in ENDPOINTS]
    if unknown:
        parser.error(f"--endpoints {unknown[0]}: one of {', '.join(ENDPOINTS)}")
    conns = args.wrk_connections or max(int(u) for u in users)
    if shutil.which("wrk") is None or shutil.which("taskset") is None:
        print("capacity-check needs wrk and taskset (bash scripts/system-deps.sh as root)")
        return 2
    started = time.monotonic()

    def say(text: str) -> None:
        print(f"[{time.monotonic() - started:5.0f} s] {text}", flush=True)

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="twinbench-capacity-") as tmp:
        database = f"sqlite:///{tmp}/capacity.sqlite3"
        subprocess.run([*TWINBENCH, "db", "init", "--database", database], cwd=ROOT,
                       capture_output=True, check=True, timeout=120)  # fmt: skip
        for target in targets:
            with served(target, database) as server:
                for s in scenarios:
                    if time.monotonic() - started > args.budget_s:
                        say(f"budget spent: {target} {s} skipped")
                        rows.append(Row(target, s, None, Saturated(None)))
                        continue
                    path = ENDPOINTS[s]
                    say(f"{target} {s}: {args.rounds} rounds of wrk ({args.wrk_seconds:g} s, "
                        f"{conns} connections) and the report's cells ({args.users} users, "
                        f"{args.repeats} repeats)")  # fmt: skip
                    wrk(server, path, 1, conns)  # warm-up, not counted
                    before = wrk(server, path, args.wrk_seconds, conns)
                    rounds = []
                    for k in range(args.rounds):
                        out = Path(tmp) / f"{target}-{s}-{k}"
                        found = report_estimates(
                            measure_cpu(target, [s], args.users, database, out, args.repeats)
                        )
                        after = wrk(server, path, args.wrk_seconds, conns)
                        rounds.append(Round(found.get((target, s)), before, after))
                        before = after
                    row = combine(target, s, rounds)
                    rows.append(row)
                    say(
                        f"    estimate {row.estimate.mean if row.estimate else 0:,.0f}/s, "
                        f"wrk {row.wrk.rps or 0:,.0f}/s, est/wrk {ratio_text(row.ratio)}"
                    )
    print()
    print(f"Capacity from CPU time per request vs wrk, one CPU (goal: within ±{TOLERANCE:.0%})")
    print(table(rows))
    print(f"({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
