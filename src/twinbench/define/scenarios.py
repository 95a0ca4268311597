"""The scenario catalogue, as data: what each Locust scenario exercises and how it is judged.

A scenario is one locustfile (named here, in `loadtests/`), the registry Feature a target needs to
serve it, the parameters handed to the locustfile through the plan, and its figure of merit:
the one number a report leads with. Load levels are not here; they belong to the profile
(smoke/quick/full) or `--users`/`--rates`, and decide the driver: levels with a rate run the
open model, levels of users the closed one. Pure.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from twinbench.define.targets import Feature
from twinbench.errors import UsageError
from twinbench.results.metrics import Metric


class SloRule(enum.Enum):
    """What a step level must meet to count towards capacity (with `--slo-p99-ms` = S)."""

    P99 = "p99"  # the main request's p99 ≤ S
    # Every request's p99 ≤ its own upstream wait + S: with waits of 50 ms and 2 s in one
    # cell, an absolute p99 would only ever judge the longest wait.
    P99_OVER_WAIT = "p99-over-wait"

    def describe(self, slo_ms: float) -> str:
        if self is SloRule.P99_OVER_WAIT:
            return f"every wait's p99 ≤ the wait + {slo_ms:g} ms"
        return f"p99 ≤ {slo_ms:g} ms"


_WAIT = re.compile(r"[?&]ms=(\d+)")


def wait_ms(request: str) -> int | None:
    """The upstream wait a request name carries (`GET /api/upstream?ms=50` → 50), if any."""
    m = _WAIT.search(request)
    return int(m.group(1)) if m else None


ParamValue = str | int | float | bool
BUILTIN = "builtin"


def find_request(main: str, names: Iterable[str]) -> str | None:
    """The recorded request name (`"<type> <name>"`) a scenario's main request means: that
    exact name, else the one ending with it (`"/orders"` or the plugin's `"ws-echo rtt"`),
    the first in sorted order when several do; None when none does."""
    names = sorted(names)
    if main in names:
        return main
    return next((n for n in names if n.endswith(f" {main}")), None) or next(
        (n for n in names if n.endswith(main)), None
    )


@dataclass(frozen=True)
class Scenario:
    name: str
    # The locustfile, named rather than derived from the scenario's name: a file called
    # `json.py` would shadow the standard library's json inside Locust (loadtests/README.md).
    locustfile: str
    feature: Feature
    merit: Metric  # the figure of merit: the one number a report leads with
    description: str
    params: Mapping[str, ParamValue] = field(default_factory=dict)  # the plan's "params"
    # Some scenarios need every client on one worker process (broadcast audiences are
    # per process by contract); None keeps the target's default worker count.
    workers: int | None = None
    # Long-lived connections (SSE, WebSocket): memory per open connection is meaningful.
    connections: bool = False
    # The Locust request (name suffix) that per-request figures count: an SSE or WebSocket
    # cell also records events that are not requests (first event, gaps, handshakes), so
    # "per request" means per stream, message or delivery. None: every request ("total").
    main_request: str | None = None
    slo_rule: SloRule = SloRule.P99
    # Whether the locustfile can run the open model (fixed arrival rate). Streams and
    # WebSocket sessions are held connections: closed only.
    open_model: bool = True
    # Where the scenario comes from: "builtin" (this catalogue; `locustfile` names a file in
    # loadtests/), or the config file that declared it ([[scenario]]): then `locustfile` is
    # the team's own file (an absolute path) and the fields below are the file's.
    source: str = BUILTIN
    locustfile_sha256: str = ""  # of the team's locustfile as it was when the run started
    users: tuple[int, ...] = ()  # its own ladder: closed-model users per level, or
    rates: tuple[float, ...] = ()  # open-model requests per second per level
    slo_p99_ms: float | None = None  # its own SLO for capacity (None: --slo-p99-ms)

    @property
    def builtin(self) -> bool:
        return self.source == BUILTIN


_T = Feature.TECHEMPOWER

CATALOGUE: tuple[Scenario, ...] = (
    Scenario("json", "json_serialization.py", _T, Metric.THROUGHPUT, "GET /json: serialization"),
    Scenario("plaintext", "plaintext.py", _T, Metric.THROUGHPUT, "GET /plaintext: the floor"),
    Scenario("db", "db.py", _T, Metric.THROUGHPUT, "GET /db: one random row"),
    Scenario("queries", "queries.py", _T, Metric.THROUGHPUT, "GET /queries?queries=20"),
    Scenario("fortunes", "fortunes.py", _T, Metric.THROUGHPUT, "GET /fortunes: Jinja2 template"),
    Scenario("updates", "updates.py", _T, Metric.THROUGHPUT, "GET /updates?queries=5: writes"),
    Scenario(
        "api",
        "api.py",
        Feature.API,
        Metric.THROUGHPUT,
        "JSON API mix: create, read, list, update, delete, with Pydantic validation",
    ),
    Scenario(
        "upstream",
        "upstream.py",
        Feature.UPSTREAM,
        Metric.INFLIGHT,
        "GET /api/upstream?ms=M, waits of 50, 500 and 2,000 ms mixed: a slow external API",
        params={"upstream_ms": "50,500,2000"},
        slo_rule=SloRule.P99_OVER_WAIT,
    ),
    Scenario(
        "cpu",
        "cpu.py",
        Feature.CPU,
        Metric.CPU_PER_REQUEST,
        "GET /api/cpu: CPU-bound work in the request handler",
    ),
    Scenario(
        "sse",
        "sse.py",
        Feature.SSE,
        # Time to first event, not memory per stream: a server that queues streams it cannot
        # hold (sync workers) has little memory per stream and a long wait before it.
        Metric.LATENCY_P99,
        "Server-sent event streams held open: memory and latency per event",
        params={"sse_events": 5, "sse_interval_ms": 50},  # 250 ms streams fit short windows
        connections=True,
        main_request="sse first-event",
        open_model=False,
    ),
    Scenario(
        "ws_echo",
        "ws_echo.py",
        Feature.WEBSOCKET,
        Metric.LATENCY_P99,
        "WebSocket echo round trips on held connections",
        connections=True,
        main_request="ws-echo rtt",
        open_model=False,
    ),
    Scenario(
        "ws_connect",
        "ws_connect.py",
        Feature.WEBSOCKET,
        Metric.THROUGHPUT,
        "New WebSocket connections per second: handshake, one echo, close",
        main_request="ws connect",
        open_model=False,
    ),
    Scenario(
        "ws_broadcast",
        "ws_broadcast.py",
        Feature.WEBSOCKET,
        Metric.LATENCY_P99,
        "WebSocket fan-out to every client of one worker process",
        workers=1,
        connections=True,
        main_request="ws-broadcast delivery",
        open_model=False,
    ),
)

_BY_NAME = {s.name: s for s in CATALOGUE}
# The issue and Locust's users write "ws-echo"; file names cannot hold a hyphen usefully.
_ALIASES = {s.name.replace("_", "-"): s.name for s in CATALOGUE if "_" in s.name}


def scenario_names() -> list[str]:
    return [s.name for s in CATALOGUE]


def get(name: str) -> Scenario:
    try:
        return _BY_NAME[_ALIASES.get(name, name)]
    except KeyError:
        raise UsageError(
            f"unknown scenario {name!r}; known: {', '.join(scenario_names())}"
        ) from None


def select(names: list[str] | None, extra: Iterable[Scenario] = ()) -> tuple[Scenario, ...]:
    """The named scenarios in catalogue order (a stable run order), then the named ones of a
    config file (`extra`, in its order); without names every built-in one (or, when a config
    file declares scenarios, every one of the file's)."""
    own = {s.name: s for s in extra}
    if not names:
        return tuple(own.values()) or CATALOGUE
    wanted: set[str] = set()
    for n in names:
        if n in own:
            wanted.add(n)
            continue
        try:
            wanted.add(get(n).name)
        except UsageError:
            known = ", ".join([*scenario_names(), *own])
            raise UsageError(f"unknown scenario {n!r}; known: {known}") from None
    return tuple(s for s in CATALOGUE if s.name in wanted) + tuple(
        s for s in own.values() if s.name in wanted
    )
