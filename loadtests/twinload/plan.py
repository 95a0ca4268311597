"""The plan the harness hands to Locust (`--tb-plan`), see loadtests/README.md."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SCHEMA = 1
MODELS = ("closed", "open")


class PlanError(ValueError):
    pass


@dataclass(frozen=True)
class Phase:
    id: str
    host: str
    users: int | None
    rate: float | None
    warmup_s: float
    measure_s: float
    # Before the phase's users start, wait (at most `settle_s` of the plan) until this URL
    # answers promptly: a server still working through requests an earlier phase abandoned
    # (a sync worker pool's backlog) would otherwise be measured on that backlog.
    settle_url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Plan:
    scenario: str
    model: str
    phases: tuple[Phase, ...]
    params: dict[str, Any] = field(default_factory=dict)
    settle_s: float = 0.0  # the longest wait for a phase's settle_url (0: never wait)


def _phase(raw: dict[str, Any], model: str) -> Phase:
    try:
        phase = Phase(
            id=str(raw["id"]),
            host=str(raw["host"]).rstrip("/"),
            users=None if raw.get("users") is None else int(raw["users"]),
            rate=None if raw.get("rate") is None else float(raw["rate"]),
            warmup_s=float(raw.get("warmup_s", 0.0)),
            measure_s=float(raw["measure_s"]),
            settle_url=None if raw.get("settle_url") is None else str(raw["settle_url"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PlanError(f"bad phase {raw!r}: {exc!r}") from exc
    if phase.warmup_s < 0 or phase.measure_s <= 0:
        raise PlanError(f"phase {phase.id}: warmup_s must be >= 0 and measure_s > 0")
    if model == "closed" and (phase.users is None or phase.users < 1):
        raise PlanError(f"phase {phase.id}: the closed model needs users >= 1")
    if model == "open" and (phase.rate is None or phase.rate <= 0):
        raise PlanError(f"phase {phase.id}: the open model needs rate > 0")
    if model == "open" and phase.users is not None and phase.users < 1:
        raise PlanError(f"phase {phase.id}: users (the in-flight cap) must be >= 1")
    return phase


def parse_plan(data: dict[str, Any], scenario: str | None = None) -> Plan:
    if data.get("schema") != SCHEMA:
        raise PlanError(f"plan schema must be {SCHEMA}, got {data.get('schema')!r}")
    model = data.get("model", "closed")
    if model not in MODELS:
        raise PlanError(f"model must be one of {MODELS}, got {model!r}")
    plan_scenario = str(data.get("scenario", scenario or ""))
    if scenario is not None and plan_scenario != scenario:
        raise PlanError(f"plan is for scenario {plan_scenario!r}, this locustfile is {scenario!r}")
    phases = tuple(_phase(p, model) for p in data.get("phases", []))
    if not phases:
        raise PlanError("plan has no phases")
    ids = [p.id for p in phases]
    if len(set(ids)) != len(ids):
        raise PlanError("phase ids must be unique")
    try:
        settle_s = float(data.get("settle_s", 0.0))
    except (TypeError, ValueError) as exc:
        raise PlanError(f"settle_s must be a number: {exc!r}") from exc
    return Plan(plan_scenario, model, phases, dict(data.get("params") or {}), settle_s)


def load_plan(path: str | Path, scenario: str | None = None) -> Plan:
    return parse_plan(json.loads(Path(path).read_text()), scenario)
