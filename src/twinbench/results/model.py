"""Everything a run stores, as frozen dataclasses. Pure.

The results directory (docs/results-format.md) holds these records as JSON; `store.load_run`
turns them back into these classes (older schemas upgraded on read: results.upgrade), so a
report never handles loose dicts. Bump SCHEMA_VERSION whenever a stored field changes, and
teach results.upgrade to bring the previous version's files up to it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

# Re-exported: readers of results files decode them with these.
from twinbench.define.claims import Claim
from twinbench.define.scenarios import Scenario
from twinbench.results.codec import from_json as from_json
from twinbench.results.codec import to_json as to_json

# 2: Capacity.inflight and Capacity.slo; micro.json; the `inflight`, `events_per_s`,
# `messages_per_s` metrics; per-request figures of SSE/WS cells counted on the scenario's
# main request (`Scenario.main_request`).
# 3: RunInfo.scenario_defs (each scenario as run: its locustfile, figure of merit, main
# request, SLO rule), CellResult.reason_kind (the reason's kind as an enum, no longer parsed
# back from the text).
# 4: TargetConfig.url and TargetConfig.pid_file (external targets: measured, not started);
# CellResult.loader_counts (requests each Locust worker sent in the window).
# 5: a team's own scenarios and claims from a config file: Scenario.source (the config file,
# or "builtin"), locustfile (then the team's file, absolute), locustfile_sha256, users, rates,
# slo_p99_ms; RunInfo.claims (the config file's claims, judged by every reader of the run);
# TargetConfig.cwd; ReasonKind "requests-failed".
SCHEMA_VERSION = 5

# What an external target's CPU and memory figures say when nothing can read them.
NOT_MEASURED_EXTERNAL = "not measured (external target)"


class CellStatus(enum.Enum):
    OK = "ok"  # measured and valid
    INVALID = "invalid"  # measured, but the numbers do not describe the target (reason says why)
    FAILED = "failed"  # the target died or did not start, or the load generator crashed
    UNSUPPORTED = (
        "unsupported"  # the target cannot serve the scenario's feature (registry's reason)
    )
    SKIPPED = "skipped"  # never run: the run's time limit was reached


class ReasonKind(enum.Enum):
    """Why a cell is not OK, as a closed set; the cell's `reason` is the sentence that starts
    with it ("load-generator-bound: Locust kept its CPU 97 % busy"). docs/results-format.md."""

    LOAD_GENERATOR_BOUND = "load-generator-bound"  # invalid: Locust, not the target, was the limit
    TARGET_BACKLOGGED = "target-backlogged"  # invalid: still answering an earlier phase's queue
    SPAWN_SHORT = "spawn-short"  # invalid: not every user was running when the window opened
    NO_REQUESTS = "no-requests"  # invalid: nothing completed in the window
    CONNECTIONS_NOT_HELD = "connections-not-held"  # invalid: the target refused to hold them
    TARGET_CPUS_SHARED = "target-cpus-shared"  # invalid: another target restarted on its CPUs
    LOADER_LOST = "loader-lost"  # invalid: fewer Locust workers generated it than the run had
    TARGET_DIED = "target-died"  # failed: the server exited during the cell
    START_FAILED = "start-failed"  # failed: the server never became healthy
    NO_OUTPUT = "no-output"  # failed: Locust wrote no line for the phase
    LOCUST_EXITED = "locust-exited"  # failed: Locust ended before the phase
    LOCUST_TIMEOUT = "locust-timeout"  # failed: Locust ran far past the plan's length
    TIME_LIMIT = "time-limit"  # skipped: --max-seconds came first
    UNSUPPORTED = "unsupported"  # the target cannot serve the scenario (registry's reason)
    REQUESTS_FAILED = "requests-failed"  # failed: the target answered, mostly with failures

    def reason(self, detail: str) -> str:
        """The stored sentence: "<kind>: <detail>" (unsupported: the registry's own words)."""
        return detail if self is ReasonKind.UNSUPPORTED else f"{self.value}: {detail}"

    @property
    def target_caused(self) -> bool:
        """The target's own doing (it completed nothing, was still draining, or died): such a
        cell at a ladder's lowest level shows the target could not hold that level."""
        return self in _TARGET_CAUSED


_TARGET_CAUSED = frozenset(
    {ReasonKind.NO_REQUESTS, ReasonKind.TARGET_BACKLOGGED, ReasonKind.TARGET_DIED}
)


class LoadModel(enum.Enum):
    CLOSED = "closed"  # N users, each sends its next request when the last one returns
    OPEN = "open"  # a fixed arrival rate; latency counted from the intended send time
    STEP = "step"  # a ladder of levels (users or rates) to find the capacity


class Driver(enum.Enum):
    """How Locust generates one phase's load (a STEP cell is driven closed or open)."""

    CLOSED = "closed"
    OPEN = "open"


@dataclass(frozen=True)
class GitInfo:
    commit: str  # "unknown" outside a git checkout
    dirty: bool


@dataclass(frozen=True)
class MachineInfo:
    cpu_model: str
    logical_cpus: int
    physical_cpus: int
    memory_bytes: int
    os: str
    python: str


@dataclass(frozen=True)
class Pinning:
    """Where everything ran. CPU tuples are empty when a process was left unpinned."""

    target_cpus: tuple[int, ...]
    loader_cpus: tuple[int, ...]
    upstream_cpus: tuple[int, ...]
    harness_cpus: tuple[int, ...]
    database: str  # in words, e.g. "PostgreSQL system service on 127.0.0.1, unpinned"


@dataclass(frozen=True)
class Slo:
    p99_ms: float  # a step level counts towards capacity only if its p99 is at most this
    max_error_rate: float  # ... and fewer than this fraction of its requests failed


@dataclass(frozen=True)
class TargetConfig:
    name: str
    app: str  # flask | fastapi | custom
    server: str
    worker_model: str
    workers: int
    threads: int
    db_pool_size: int
    label: str  # the server configuration in words, for every printed figure
    description: str
    source: str  # "builtin" or the config file it came from
    # Non-empty: a known anti-pattern measured on purpose (what is wrong, in words): never
    # the "best" of its app in the headline or a claim, shown in its own report section.
    antipattern: str = ""
    # Non-empty: an external target at this base URL, started by something else (schema 4).
    url: str = ""
    # External targets: the pid file its CPU and memory were read from ("" : not measured).
    pid_file: str = ""

    @property
    def resources_measured(self) -> bool:
        return not self.url or bool(self.pid_file)
    cwd: str = ""  # the folder its command ran in ("" : the harness's)


@dataclass(frozen=True)
class CellConfig:
    """One cell: one target × scenario × load level × repeat, measured in one Locust phase."""

    cell_id: str  # stable: "<scenario>.<target>.l<level>.r<repeat>"
    scenario: str
    target: str
    app: str
    server: str
    worker_model: str
    workers: int
    threads: int
    db_pool_size: int
    model: LoadModel
    driver: Driver
    load_level: int  # 1-based index in the scenario's ladder (1 when there is one level)
    users: int | None  # closed: concurrent users; open: cap on requests in flight
    rate: float | None  # open: intended requests (or sessions) per second
    repeat: int  # 1-based
    warmup_s: float
    measure_s: float
    order: int  # position in the run (cells run in this order, targets interleaved)


@dataclass(frozen=True)
class RunInfo:
    """run.json: written once, before the first cell."""

    schema_version: int
    run_id: str
    started_utc: str  # ISO 8601
    twinbench_version: str
    command: tuple[str, ...]
    git: GitInfo
    packages: Mapping[str, str]  # distribution → version ("not installed" when absent)
    machine: MachineInfo
    pinning: Pinning
    profile: str
    database: str  # back-end and address, never a password
    database_kind: str  # sqlite | postgres (twinbench.apps.common.settings.DatabaseKind)
    upstream_url: str
    loader_workers: int  # 0: one Locust process; N: a master and N workers
    slo: Slo
    max_seconds: float
    repeats: int
    targets: tuple[TargetConfig, ...]
    scenarios: tuple[str, ...]  # in run order
    cells: tuple[CellConfig, ...]
    # What each scenario was (the analysis reads these, never the catalogue of the version
    # that reads the folder); schema 2 folders get the catalogue's on read.
    scenario_defs: tuple[Scenario, ...] = ()
    # The config file's claims (`[[claim]]`): stored with the run so that every report of it
    # judges them, whatever config file is around when the report is made.
    claims: tuple[Claim, ...] = ()


@dataclass(frozen=True)
class Window:
    """Wall-clock times (time.time_ns) from the Locust output line of the phase."""

    t_start_ns: int  # warm-up began
    t_measure_start_ns: int
    t_measure_end_ns: int

    @property
    def measure_s(self) -> float:
        return (self.t_measure_end_ns - self.t_measure_start_ns) / 1e9


@dataclass(frozen=True)
class OpenLoad:
    intended: int  # sends the schedule asked for in the measured window
    sent: int
    late: int  # sent after their intended time (latency still counted from it)
    dropped: int  # never sent: the in-flight cap was reached


@dataclass(frozen=True)
class RequestStats:
    name: str  # Locust request name; "total" is every request of the cell
    count: int
    failures: int


@dataclass(frozen=True)
class CellResult:
    """One line of cells.jsonl: written once the cell is over (or known never to run)."""

    cell_id: str
    config: CellConfig
    status: CellStatus
    reason: str  # "" when OK
    stderr_tail: str  # the target's (or Locust's) last stderr lines when FAILED
    window: Window | None  # None when nothing was measured
    loader_processes: int
    requests: tuple[RequestStats, ...]  # "total" first
    open: OpenLoad | None
    errors: Mapping[str, int]  # failure message → count
    finished_utc: str
    reason_kind: ReasonKind | None = None  # None when OK
    # Requests each Locust worker completed in the window (schema 4), in the order their
    # reports arrived; empty for a single Locust process. Sums to the "total" count.
    loader_counts: tuple[int, ...] = ()

    @property
    def valid(self) -> bool:
        return self.status is CellStatus.OK


@dataclass(frozen=True)
class MetricRow:
    """One row of metrics.csv (the tidy table): one figure of one cell."""

    run_id: str
    cell_id: str
    target: str
    app: str
    server: str
    worker_model: str
    workers: int
    threads: int
    scenario: str
    model: str
    load_level: int
    users: int | None
    rate: float | None
    repeat: int
    request: str  # "total" or a Locust request name
    metric: str  # a results.metrics.Metric value, or a locustfile's gauge_/counter_ name
    value: float | None  # None (empty in the CSV) when the cell measured nothing
    unit: str
    status: str
    valid: bool
    reason: str


@dataclass(frozen=True)
class Capacity:
    """The highest load level of a step scenario that met the SLO, on valid cells only."""

    target: str
    scenario: str
    driver: Driver
    load_level: int | None  # None: no level qualified (reason says why)
    users: int | None
    rate: float | None
    throughput_rps: float | None  # median over the level's repeats
    p99_ms: float | None  # median over the level's repeats (of the request the SLO binds)
    reason: str
    # Requests in flight the target held at that level, median over repeats (Little's law:
    # throughput × mean latency): the figure of merit of the slow-upstream scenario.
    inflight: float | None = None
    slo: str = ""  # the rule the level was held to, in words


@dataclass(frozen=True)
class RunSummary:
    """complete.json: its presence marks the run complete; written last, once."""

    run_id: str
    finished_utc: str
    elapsed_s: float
    stopped_early: str  # "" or why (e.g. the time limit); skipped cells are in cells.jsonl
    counts: Mapping[str, int]  # status → cells
    capacities: tuple[Capacity, ...]


@dataclass(frozen=True)
class MicroBenchmark:
    """One in-process micro-benchmark: per-round mean time of one operation."""

    name: str  # stable, e.g. "pydantic-v2-json"
    group: str  # what is compared within, e.g. "validation"
    description: str
    round_us: tuple[float, ...]  # mean µs per operation, one value per timed round


@dataclass(frozen=True)
class MicroResults:
    """micro.json: in-process figures a claim needs that no HTTP load can isolate."""

    cpus: tuple[int, ...]  # where it ran (the target CPUs)
    batch: int  # operations per timed round
    benchmarks: tuple[MicroBenchmark, ...]


@dataclass(frozen=True)
class RunResults:
    """What `store.load_run` returns: a whole results directory."""

    path: str
    run: RunInfo
    cells: tuple[CellResult, ...]
    metrics: tuple[MetricRow, ...]
    summary: RunSummary | None = None  # None: the run crashed or was interrupted
    micro: MicroResults | None = None  # None: not measured (or the run stopped before it)
    histograms: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # lazily empty

    @property
    def complete(self) -> bool:
        return self.summary is not None

    def cell(self, cell_id: str) -> CellResult:
        for c in self.cells:
            if c.cell_id == cell_id:
                return c
        raise KeyError(cell_id)

