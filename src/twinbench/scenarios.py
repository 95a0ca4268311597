"""The scenario catalogue, as data: what each Locust scenario exercises and how it is judged.

A scenario is one locustfile (`loadtests/<name>.py`), the registry Feature a target needs to
serve it, how Locust drives it (closed users or an open arrival rate), the parameters handed
to the locustfile through the plan, and its figure of merit: the one number a report leads
with. Load levels are not here; they belong to the profile (smoke/quick/full). Pure.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from .errors import UsageError
from .registry import Feature
from .results import Driver


class Merit(enum.Enum):
    """The figure of merit, as (metric in metrics.csv, whether higher is better)."""

    THROUGHPUT = ("throughput", True)
    LATENCY_P99 = ("latency_p99", False)
    CPU_PER_REQUEST = ("cpu_per_request", False)
    MEM_PER_CONNECTION = ("mem_per_connection", False)

    @property
    def metric(self) -> str:
        return self.value[0]

    @property
    def higher_is_better(self) -> bool:
        return self.value[1]


ParamValue = str | int | float | bool


@dataclass(frozen=True)
class Scenario:
    name: str
    feature: Feature
    driver: Driver
    merit: Merit
    description: str
    params: Mapping[str, ParamValue] = field(default_factory=dict)  # the plan's "params"
    # Some scenarios need every client on one worker process (broadcast audiences are
    # per process by contract); None keeps the target's default worker count.
    workers: int | None = None
    # Long-lived connections (SSE, WebSocket): memory per open connection is meaningful.
    connections: bool = False

    @property
    def locustfile(self) -> str:
        return f"loadtests/{self.name}.py"


_T = Feature.TECHEMPOWER

CATALOGUE: tuple[Scenario, ...] = (
    Scenario("json", _T, Driver.CLOSED, Merit.THROUGHPUT, "GET /json: serialization"),
    Scenario("plaintext", _T, Driver.CLOSED, Merit.THROUGHPUT, "GET /plaintext: the floor"),
    Scenario("db", _T, Driver.CLOSED, Merit.THROUGHPUT, "GET /db: one random row"),
    Scenario("queries", _T, Driver.CLOSED, Merit.THROUGHPUT, "GET /queries?queries=20"),
    Scenario("fortunes", _T, Driver.CLOSED, Merit.THROUGHPUT, "GET /fortunes: Jinja2 template"),
    Scenario("updates", _T, Driver.CLOSED, Merit.THROUGHPUT, "GET /updates?queries=5: writes"),
    Scenario(
        "api",
        Feature.API,
        Driver.CLOSED,
        Merit.THROUGHPUT,
        "JSON API mix: create, read, list, update, delete, with Pydantic validation",
    ),
    Scenario(
        "upstream",
        Feature.UPSTREAM,
        Driver.OPEN,
        Merit.LATENCY_P99,
        "GET /api/upstream?ms=20 at a fixed arrival rate: waiting on I/O",
        params={"upstream_ms": "20"},
    ),
    Scenario(
        "cpu",
        Feature.CPU,
        Driver.CLOSED,
        Merit.CPU_PER_REQUEST,
        "GET /api/cpu: CPU-bound work in the request handler",
    ),
    Scenario(
        "sse",
        Feature.SSE,
        Driver.CLOSED,
        # Time to first event, not memory per stream: a server that queues streams it cannot
        # hold (sync workers) has little memory per stream and a long wait before it.
        Merit.LATENCY_P99,
        "Server-sent event streams held open: memory and latency per event",
        params={"sse_events": 5, "sse_interval_ms": 50},  # 250 ms streams fit short windows
        connections=True,
    ),
    Scenario(
        "ws_echo",
        Feature.WEBSOCKET,
        Driver.CLOSED,
        Merit.LATENCY_P99,
        "WebSocket echo round trips on held connections",
        connections=True,
    ),
    Scenario(
        "ws_broadcast",
        Feature.WEBSOCKET,
        Driver.CLOSED,
        Merit.LATENCY_P99,
        "WebSocket fan-out to every client of one worker process",
        workers=1,
        connections=True,
    ),
)

_BY_NAME = {s.name: s for s in CATALOGUE}


def scenario_names() -> list[str]:
    return [s.name for s in CATALOGUE]


def get(name: str) -> Scenario:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UsageError(
            f"unknown scenario {name!r}; known: {', '.join(scenario_names())}"
        ) from None


def select(names: list[str] | None) -> tuple[Scenario, ...]:
    """The named scenarios in catalogue order (a stable run order), or all of them."""
    if not names:
        return CATALOGUE
    wanted = {get(n).name for n in names}
    return tuple(s for s in CATALOGUE if s.name in wanted)
