"""smoke / quick / full as data, and the time each one takes, computed. Pure.

A profile fixes the default targets, repeats, warm-up and measured seconds per cell, and
each scenario's load levels (one level: a plain closed or open cell; several: a step
ladder, whose highest level within the SLO is the target's capacity).

Durations are budgeted with a cost model measured on the 2-core reference machine
(`plan.estimate_seconds`); tests keep every profile's estimate within its budget. Runs of
spawn + warm-up + measure end just before a whole second (Locust's shape tick; see
plan.CostModel), so a window never pays for a tick it does not use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from twinbench.define.scenarios import ParamValue
from twinbench.errors import UsageError


@dataclass(frozen=True)
class Level:
    users: int | None  # closed: concurrent users; open: the in-flight cap (None: plugin default)
    rate: float | None = None  # open: arrivals per second


@dataclass(frozen=True)
class Timing:
    """Seconds of warm-up (never counted) and of measurement in each cell."""

    warmup_s: float
    measure_s: float


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    targets: tuple[str, ...]  # default --targets
    repeats: int
    warmup_s: float
    measure_s: float
    levels: Mapping[str, tuple[Level, ...]]  # scenario → ladder (missing: DEFAULT_LEVEL)
    budget_s: float  # the promise: a run of this profile takes at most this long
    max_seconds: float  # the hard stop (--max-seconds default), above the budget
    # Per scenario: other windows (a 2 s upstream wait needs a longer warm-up than /json)
    # and other locustfile parameters than the scenario's own (shorter waits in quick).
    timing: Mapping[str, Timing] = field(default_factory=dict)
    params: Mapping[str, Mapping[str, ParamValue]] = field(default_factory=dict)
    scenarios: tuple[str, ...] = ()  # default --scenarios (empty: every scenario)

    def levels_for(self, scenario: str) -> tuple[Level, ...]:
        return self.levels.get(scenario, (DEFAULT_LEVEL,))

    def timing_for(self, scenario: str) -> Timing:
        return self.timing.get(scenario, Timing(self.warmup_s, self.measure_s))

    def params_for(self, scenario: str) -> Mapping[str, ParamValue]:
        return self.params.get(scenario, {})


DEFAULT_LEVEL = Level(users=16)

_SMALL: Mapping[str, tuple[Level, ...]] = {
    "upstream": (Level(users=20),),
    "sse": (Level(users=10),),
    "ws_echo": (Level(users=10),),
    "ws_connect": (Level(users=10),),
    "ws_broadcast": (Level(users=10),),
}
# quick: enough users on the slow upstream that a sync worker pool (3 workers) queues while
# an event loop holds them all; waits of 50 and 500 ms (2 s waits need full's long windows).
_QUICK: Mapping[str, tuple[Level, ...]] = {
    **_SMALL,
    "upstream": (Level(users=16), Level(users=256)),
    # the ws-latency-50ms claim: 100+ sessions, each paced to a message per 100 ms
    "ws_echo": (Level(users=100),),
}

_CLOSED_LADDER = (Level(users=4), Level(users=16), Level(users=64))
_FULL: Mapping[str, tuple[Level, ...]] = {
    **{
        name: _CLOSED_LADDER
        for name in ("json", "plaintext", "db", "queries", "fortunes", "updates", "api", "cpu")
    },
    "upstream": (Level(users=8), Level(users=128), Level(users=1024)),
    "sse": (Level(users=10), Level(users=100), Level(users=500)),
    "ws_echo": (Level(users=10), Level(users=100), Level(users=400)),
    "ws_connect": (Level(users=16),),
    "ws_broadcast": (Level(users=50),),
}

PROFILES: tuple[Profile, ...] = (
    Profile(
        name="smoke",
        description="every scenario once, briefly, on the two targets that serve everything",
        targets=("fastapi-uvicorn", "flask-gunicorn-gevent"),
        repeats=1,
        warmup_s=0.25,
        measure_s=0.5,
        levels=_SMALL,
        budget_s=90.0,
        max_seconds=180.0,
        params={"upstream": {"upstream_ms": "50"}},
    ),
    Profile(
        name="quick",
        description="every scenario, 3 repeats, on FastAPI/uvicorn and Flask gunicorn sync+gevent",
        targets=("fastapi-uvicorn", "flask-gunicorn-sync", "flask-gunicorn-gevent"),
        repeats=3,
        warmup_s=0.25,
        measure_s=0.6,
        levels=_QUICK,
        budget_s=300.0,
        max_seconds=420.0,
        timing={"upstream": Timing(0.6, 2.2)},  # a 500 ms wait needs a longer window
        params={"upstream": {"upstream_ms": "50,500"}, "ws_echo": {"ws_interval_ms": 100}},
    ),
    Profile(
        name="full",
        description="every target (but the anti-patterns) × scenario, step ladders, 3 repeats",
        targets=(),  # every registered target but the anti-patterns
        repeats=3,
        warmup_s=0.5,
        measure_s=2.2,
        levels=_FULL,
        budget_s=45 * 60.0,
        max_seconds=55 * 60.0,
        timing={"upstream": Timing(2.2, 3.6)},
        params={"ws_echo": {"ws_interval_ms": 100}},
    ),
)

_NAIVE_SCENARIOS = ("db", "queries", "fortunes", "updates", "upstream")
# What a naive port gets (analysis.naive): the anti-pattern FastAPI ports beside idiomatic
# FastAPI and both Flask worker models, on the database and slow-upstream scenarios only.
NAIVE = Profile(
    name="naive",
    description="the naive FastAPI ports against idiomatic FastAPI and Flask sync+gevent, "
    "database and slow-upstream scenarios, 3 repeats",
    targets=(
        "fastapi-uvicorn",
        "fastapi-naive-blocking",
        "fastapi-naive-sync",
        "flask-gunicorn-gevent",
        "flask-gunicorn-sync",
    ),
    repeats=3,
    warmup_s=0.25,
    measure_s=0.6,
    levels={s: _QUICK.get(s, (DEFAULT_LEVEL,)) for s in _NAIVE_SCENARIOS},
    budget_s=300.0,
    max_seconds=420.0,
    timing={"upstream": Timing(0.6, 2.2)},
    params={"upstream": {"upstream_ms": "50,500"}},
    scenarios=_NAIVE_SCENARIOS,
)
PROFILES = (*PROFILES, NAIVE)

_BY_NAME = {p.name: p for p in PROFILES}


def get(name: str) -> Profile:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UsageError(f"unknown profile {name!r}; known: {', '.join(_BY_NAME)}") from None
