"""The claims ledger as data: docs/claims.toml parsed into frozen dataclasses.

A claim keeps its stable id, wording and source exactly as the migration plan gave them;
its checks say what twinbench measures to judge it (twinbench.verdicts judges them). Only
`load_claims` does I/O; `parse_claims` is pure so tests can feed it text.
"""

from __future__ import annotations

import enum
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import UsageError


class Metric(enum.Enum):
    """A figure the report can put against a claim. Value: (name, unit, higher is better)."""

    THROUGHPUT = "throughput"  # successful requests (or messages) per second, peak over load
    P50 = "p50"  # latency percentiles in ms, from the raw HdrHistograms
    P90 = "p90"
    P95 = "p95"
    P99 = "p99"
    P999 = "p99.9"
    CPU = "cpu"  # server CPU µs per request
    MEMORY = "memory"  # resident memory of all server processes, MB
    CAPACITY = "capacity"  # highest load level that met the SLO

    @property
    def unit(self) -> str:
        return _UNITS[self]

    @property
    def is_latency(self) -> bool:
        return self in LATENCY_METRICS

    @property
    def quantile(self) -> float | None:
        """The latency quantile in percent (50.0 for P50), None for other metrics."""
        return float(self.value[1:]) if self.is_latency else None


LATENCY_METRICS = frozenset({Metric.P50, Metric.P90, Metric.P95, Metric.P99, Metric.P999})
_UNITS = {
    Metric.THROUGHPUT: "req/s",
    Metric.CPU: "µs/req",
    Metric.MEMORY: "MB",
    Metric.CAPACITY: "users",
    **dict.fromkeys(LATENCY_METRICS, "ms"),
}


class CheckKind(enum.Enum):
    RATIO = "ratio"  # FastAPI vs Flask improvement must reach a factor
    THRESHOLD = "threshold"  # an absolute bound on this machine
    MICRO = "micro"  # not measurable over HTTP: an in-process micro-benchmark claim


class Better(enum.Enum):
    HIGHER = "higher"
    LOWER = "lower"


@dataclass(frozen=True)
class Check:
    what: str
    kind: CheckKind
    scenario: str | None = None
    metric: Metric | None = None
    better: Better = Better.HIGHER
    factor: float | None = None  # RATIO: least improvement the wording commits to
    below: float | None = None  # THRESHOLD: the bound, in the metric's unit
    min_load: float | None = None  # THRESHOLD: only loads at least this high count
    from_value: float | None = None  # the plan's absolute figures (another machine)
    to_value: float | None = None
    flask_targets: tuple[str, ...] = ()  # empty: every Flask target measured
    fastapi_targets: tuple[str, ...] = ()
    micro_command: str | None = None


@dataclass(frozen=True)
class Claim:
    id: str
    source: str
    from_to: str
    wording: str
    checks: tuple[Check, ...]

    @property
    def scenarios(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.scenario for c in self.checks if c.scenario))


def _enum(cls: type[enum.Enum], raw: Any, where: str) -> Any:
    try:
        return cls(raw)
    except ValueError:
        known = ", ".join(str(m.value) for m in cls)
        raise UsageError(f"{where}: {raw!r} is not one of {known}") from None


def _float(raw: Mapping[str, Any], key: str, where: str) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UsageError(f"{where}: {key} must be a number, not {value!r}")
    return float(value)


def _check(raw: Mapping[str, Any], where: str) -> Check:
    kind = _enum(CheckKind, raw.get("kind"), f"{where}.kind")
    check = Check(
        what=str(raw.get("what", "")),
        kind=kind,
        scenario=raw.get("scenario"),
        metric=_enum(Metric, raw["metric"], f"{where}.metric") if "metric" in raw else None,
        better=_enum(Better, raw.get("better", "higher"), f"{where}.better"),
        factor=_float(raw, "factor", where),
        below=_float(raw, "below", where),
        min_load=_float(raw, "min_load", where),
        from_value=_float(raw, "from_value", where),
        to_value=_float(raw, "to_value", where),
        flask_targets=tuple(raw.get("flask_targets", ())),
        fastapi_targets=tuple(raw.get("fastapi_targets", ())),
        micro_command=raw.get("micro_command"),
    )
    # Each kind needs its own fields; a claim that cannot be judged is a ledger bug.
    if kind is not CheckKind.MICRO and (check.scenario is None or check.metric is None):
        raise UsageError(f"{where}: a {kind.value} check needs a scenario and a metric")
    if kind is CheckKind.RATIO and (check.factor is None or check.factor <= 0):
        raise UsageError(f"{where}: a ratio check needs factor > 0")
    if kind is CheckKind.THRESHOLD and check.below is None:
        raise UsageError(f"{where}: a threshold check needs `below`")
    if kind is CheckKind.MICRO and not check.micro_command:
        raise UsageError(f"{where}: a micro check names the command that measures it")
    return check


def parse_claims(text: str, origin: str = "claims.toml") -> tuple[Claim, ...]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{origin}: {exc}") from exc
    claims: list[Claim] = []
    for i, raw in enumerate(data.get("claim", [])):
        where = f"{origin}: claim {raw.get('id', i + 1)}"
        missing = [k for k in ("id", "source", "from_to", "wording") if not raw.get(k)]
        if missing:
            raise UsageError(f"{where}: missing {', '.join(missing)}")
        checks = tuple(
            _check(c, f"{where} check {j + 1}") for j, c in enumerate(raw.get("check", []))
        )
        if not checks:
            raise UsageError(f"{where}: no checks (how would it be judged?)")
        claims.append(
            Claim(str(raw["id"]), str(raw["source"]), str(raw["from_to"]), raw["wording"], checks)
        )
    ids = [c.id for c in claims]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise UsageError(f"{origin}: duplicate claim id(s): {', '.join(dupes)}")
    return tuple(claims)


def default_claims_path() -> Path:
    """docs/claims.toml of the checkout this package runs from (an editable install)."""
    return Path(__file__).resolve().parents[2] / "docs" / "claims.toml"


def load_claims(path: Path | None = None) -> tuple[Claim, ...]:
    path = path or default_claims_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read the claims ledger {path}: {exc.strerror}") from exc
    return parse_claims(text, str(path))
