"""Which cells describe the target: the rules that mark a measured cell invalid. Pure.

A cell whose load generator ran out of CPU measures Locust, not the framework: its latency
includes time the request spent waiting in Locust's event loop, and its throughput is
Locust's ceiling. Such cells are kept (so nothing is silently missing) but marked invalid,
and capacity is only ever taken from valid cells (analysis.capacity).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from twinbench.results.model import CellResult, CellStatus, Driver, OpenLoad, ReasonKind, Slo

LOADER_BUSY_LIMIT = 0.90  # share of the loader CPUs; above it Locust is the bottleneck
RATE_TOLERANCE = 0.05  # open model: attempted sends may miss the intended rate by this much
LATE_TOLERANCE = 0.05  # open model: share of sends that may start late
DEFAULT_SLO = Slo(p99_ms=100.0, max_error_rate=0.001)
# Connection scenarios: share of the users' connections that must be open at once. SSE users
# reconnect between short streams, so a sample can miss a few.
HELD_SHARE = 0.9
# More than this share of a cell's requests failed (404s from an endpoint the app lacks, 5xx,
# refused connections): the cell describes failures, not the target serving the scenario.
FAILED_SHARE = 0.05


@dataclass(frozen=True)
class Observation:
    """What the runner measured for one cell, reduced to what the rules need."""

    driver: Driver
    rate: float | None
    measure_s: float
    requests: int
    loader_cpu_util: float | None  # Locust processes' CPU / (window × loader CPUs)
    loader_cpus_busy: float | None  # the loader CPUs' busy share, whatever ran on them
    open: OpenLoad | None
    target_exit: str  # "" while the target lived through the cell, else how it ended
    # The target was still answering slowly after the settle wait (an earlier phase's
    # backlog): seconds waited, or None when it settled (or was not checked).
    unsettled_after_s: float | None = None
    # Connection scenarios: the most streams/sessions open at once, and how many users asked.
    held: float | None = None
    users: int | None = None
    users_started: int | None = None  # closed model: users running when the window opened
    # Locust workers: how many the run started (0: one process) and how many reported this
    # window. Fewer reporting means a worker was lost and the load came from fewer processes.
    loader_workers: int = 0
    loader_reported: int = 0
    # Every request of the window (all names) and those that failed, dropped open-model
    # sends left out (a full in-flight pool is overload, judged by the SLO instead), with
    # the failure messages counted ("<request>: <error>" → occurrences).
    total: int = 0
    failures: int = 0
    errors: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class CellVerdict:
    """What a cell ends as: its status, and for any other status than OK why, as a kind and
    the sentence stored with it (`kind.reason(detail)`)."""

    status: CellStatus
    kind: ReasonKind | None = None
    detail: str = ""

    @property
    def reason(self) -> str:
        return self.kind.reason(self.detail) if self.kind is not None else ""


OK = CellVerdict(CellStatus.OK)


def judge(obs: Observation) -> CellVerdict:
    if obs.target_exit:
        return CellVerdict(CellStatus.FAILED, ReasonKind.TARGET_DIED, obs.target_exit)
    if obs.loader_workers and obs.loader_reported < obs.loader_workers:
        return CellVerdict(
            CellStatus.INVALID,
            ReasonKind.LOADER_LOST,
            f"{obs.loader_reported} of {obs.loader_workers} Locust workers reported this "
            "window: a worker was lost, so fewer processes generated the load than planned",
        )
    if obs.unsettled_after_s is not None:
        return CellVerdict(
            CellStatus.INVALID,
            ReasonKind.TARGET_BACKLOGGED,
            f"it was still answering requests queued by an earlier phase "
            f"after {obs.unsettled_after_s:.0f} s; this window measured that backlog",
        )
    if (
        obs.driver is Driver.CLOSED
        and obs.users_started is not None
        and obs.users
        and obs.users_started < obs.users
    ):
        return CellVerdict(
            CellStatus.INVALID,
            ReasonKind.SPAWN_SHORT,
            f"only {obs.users_started} of {obs.users} users were running when "
            "the window opened (Locust could not start them in time)",
        )
    if obs.requests == 0:
        return CellVerdict(
            CellStatus.INVALID, ReasonKind.NO_REQUESTS, "nothing completed in the window"
        )
    if obs.total and obs.failures > FAILED_SHARE * obs.total:
        return CellVerdict(CellStatus.FAILED, ReasonKind.REQUESTS_FAILED, _failures(obs))
    for who, value in (
        ("the Locust processes", obs.loader_cpu_util),
        ("everything on them", obs.loader_cpus_busy),
    ):
        if value is not None and value >= LOADER_BUSY_LIMIT:
            return CellVerdict(
                CellStatus.INVALID,
                ReasonKind.LOAD_GENERATOR_BOUND,
                f"{who} kept the loader CPUs {value:.0%} busy (limit {LOADER_BUSY_LIMIT:.0%})",
            )
    if obs.driver is Driver.OPEN and obs.rate and obs.open is not None and obs.measure_s > 0:
        expected = obs.rate * obs.measure_s
        attempted = obs.open.sent + obs.open.dropped  # a drop is the target's doing, not ours
        if attempted < (1 - RATE_TOLERANCE) * expected:
            return CellVerdict(
                CellStatus.INVALID,
                ReasonKind.LOAD_GENERATOR_BOUND,
                f"sent {attempted / obs.measure_s:.1f}/s of the intended "
                f"{obs.rate:g}/s ({attempted / expected:.0%})",
            )
        if obs.open.sent and obs.open.late > LATE_TOLERANCE * obs.open.sent:
            return CellVerdict(
                CellStatus.INVALID,
                ReasonKind.LOAD_GENERATOR_BOUND,
                f"{obs.open.late / obs.open.sent:.0%} of sends started late (limit 5%)",
            )
    # After the loader checks: a saturated Locust cannot finish its handshakes either, and
    # then the load generator, not the target, is to blame.
    if obs.held is not None and obs.users and obs.held < HELD_SHARE * obs.users:
        # The figures then describe the few sessions the server took (a thread pool holds one
        # WebSocket per thread), not the load level: they must not win a comparison.
        return CellVerdict(
            CellStatus.INVALID,
            ReasonKind.CONNECTIONS_NOT_HELD,
            f"the target held {obs.held:.0f} of {obs.users} "
            "connections at most; the others waited to be accepted",
        )
    return OK


def _failures(obs: Observation) -> str:
    """'412 of 500 requests failed; most common (400×): GET /orders/{id}: 404 Not Found'."""
    head = f"{obs.failures} of {obs.total} requests failed"
    errors = {k: v for k, v in obs.errors.items() if not k.startswith("OPEN dropped")}
    if not errors:
        return head
    message, count = max(errors.items(), key=lambda kv: (kv[1], kv[0]))
    if len(message) > 200:
        message = message[:199] + "…"
    return f"{head}; most common ({count}×): {message}"


def why_not_valid(cells: Sequence[CellResult]) -> str:
    """'3 × invalid: load-generator-bound; 1 × failed': the statuses of cells that don't count."""
    counts: dict[str, int] = defaultdict(int)
    for c in cells:
        if c.status is CellStatus.UNSUPPORTED:
            counts[c.status.value] += 1  # the registry's reason is a sentence, not a kind
        elif not c.valid:
            kind = c.reason_kind.value if c.reason_kind is not None else ""
            counts[f"{c.status.value}: {kind}" if kind else c.status.value] += 1
    return "; ".join(f"{n} × {why}" for why, n in sorted(counts.items(), key=lambda kv: -kv[1]))
