"""The claims ledger as data: claims.toml (twinbench/data/) parsed into frozen dataclasses.

A claim keeps its stable id, wording and source exactly as the migration plan gave them;
its checks say what twinbench measures to judge it (twinbench.analysis.verdicts judges them), and
`measuring_command` names the run that would measure a check this run has no data for.
Scenario names are checked against the catalogue when parsing: a typo fails loudly instead
of turning into "no data". Pure: reading the file is `twinbench.inputs.load_claims`.
"""

from __future__ import annotations

import enum
import shlex
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from twinbench.define import profiles
from twinbench.define import scenarios as scenario_catalogue
from twinbench.define.profiles import Level
from twinbench.define.targets import App, default_registry
from twinbench.errors import UsageError
from twinbench.results.metrics import Better, Metric


class CheckKind(enum.Enum):
    RATIO = "ratio"  # the candidate's improvement over the baseline must reach a factor
    THRESHOLD = "threshold"  # an absolute bound on this machine
    # Not measurable over HTTP: the run's in-process micro-benchmarks (micro.json), baseline
    # time / candidate time must reach `factor`.
    MICRO = "micro"


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
    # RATIO: the sides compared, each an app and optionally its targets (empty: every target
    # of that app measured; the best one counts). The seed claims are all Flask → FastAPI; a
    # team's [[claim]] may compare any two (its custom app, FastAPI against Flask, or two
    # configurations of one app by target name).
    baseline_app: App = App.FLASK
    candidate_app: App = App.FASTAPI
    baseline_targets: tuple[str, ...] = ()
    candidate_targets: tuple[str, ...] = ()
    # The config file a [[claim]] came from: the command that would measure it needs it.
    config: str | None = None
    # MICRO: MicroBenchmark names, paired in order (baseline[i] against candidate[i]).
    baseline: tuple[str, ...] = ()
    candidate: tuple[str, ...] = ()


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


def _metric(raw: Any, where: str) -> Metric:
    try:
        return Metric.parse(str(raw))
    except ValueError as exc:
        raise UsageError(f"{where}: {exc}") from None


def _float(raw: Mapping[str, Any], key: str, where: str) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UsageError(f"{where}: {key} must be a number, not {value!r}")
    return float(value)


def _check(raw: Mapping[str, Any], where: str) -> Check:
    kind = _enum(CheckKind, raw.get("kind"), f"{where}.kind")
    metric = _metric(raw["metric"], f"{where}.metric") if "metric" in raw else None
    # A check's direction is its metric's (faster, fewer µs); `better` may say it anyway.
    default = (
        metric.better
        if metric is not None and metric.better is not Better.NEITHER
        else (Better.HIGHER)
    )
    check = Check(
        what=str(raw.get("what", "")),
        kind=kind,
        scenario=raw.get("scenario"),
        metric=metric,
        better=_enum(Better, raw["better"], f"{where}.better") if "better" in raw else default,
        factor=_float(raw, "factor", where),
        below=_float(raw, "below", where),
        min_load=_float(raw, "min_load", where),
        from_value=_float(raw, "from_value", where),
        to_value=_float(raw, "to_value", where),
        baseline_targets=tuple(raw.get("flask_targets", ())),
        candidate_targets=tuple(raw.get("fastapi_targets", ())),
        baseline=tuple(raw.get("baseline", ())),
        candidate=tuple(raw.get("candidate", ())),
    )
    # Each kind needs its own fields; a claim that cannot be judged is a ledger bug.
    if kind is not CheckKind.MICRO and (check.scenario is None or check.metric is None):
        raise UsageError(f"{where}: a {kind.value} check needs a scenario and a metric")
    if check.scenario is not None:
        try:
            scenario_catalogue.get(check.scenario)
        except UsageError as exc:
            raise UsageError(f"{where}: {exc}") from None
    if kind in (CheckKind.RATIO, CheckKind.MICRO) and (check.factor is None or check.factor <= 0):
        raise UsageError(f"{where}: a {kind.value} check needs factor > 0")
    if kind is CheckKind.THRESHOLD and check.below is None:
        raise UsageError(f"{where}: a threshold check needs `below`")
    if kind is CheckKind.MICRO and (
        not check.baseline or len(check.baseline) != len(check.candidate)
    ):
        raise UsageError(f"{where}: a micro check pairs `baseline` and `candidate` benchmarks")
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


# -- the run that would measure a check -----------------------------------------------------
# Profiles tried in this order: quick first (minutes), then full (its ladders reach higher).
# smoke is never named: one repeat gives no interval, so no ratio could be confirmed.
_PROFILES = ("quick", "full")
# Any complete run writes micro.json after its last scenario; smoke's json cell is the least.
MICRO_COMMAND = "twinbench run --profile smoke --scenarios json"


def _load(level: Level) -> float:
    return float(level.rate if level.rate is not None else level.users or 0)


def reaches(check: Check, levels: tuple[Level, ...]) -> bool:
    """Whether a run with these load levels could judge the check.

    A capacity ratio needs a ladder that spans the factor (FastAPI at the top against Flask
    below the bottom is a ratio of at least top / bottom); a threshold "with 100+ sessions"
    needs a level at that load; anything else needs one level.
    """
    loads = [_load(lv) for lv in levels]
    if not loads:
        return False
    if check.metric is Metric.CAPACITY:
        return len(loads) > 1 and min(loads) > 0 and max(loads) / min(loads) >= (check.factor or 1)
    if check.min_load is not None:
        return max(loads) >= check.min_load
    return True


def _targets(check: Check, profile: profiles.Profile) -> list[str] | None:
    """--targets for the command: the check's own targets, with the profile's (serving the
    scenario) for a side it leaves open; None when it names none (the profile's are right)."""
    assert check.scenario is not None
    sides = [(check.candidate_app, check.candidate_targets)]
    if check.kind is CheckKind.RATIO:
        sides.append((check.baseline_app, check.baseline_targets))
    if not any(named for _, named in sides):
        return None
    if check.config is not None:
        # A team's claim: its targets (and maybe its scenario) live in its file, which this
        # pure module does not read. Name them only when both sides do; otherwise the run
        # takes the file's own targets.
        if all(named for _, named in sides):
            return list(dict.fromkeys(n for _, named in sides for n in named))
        return None
    registry = default_registry()
    feature = scenario_catalogue.get(check.scenario).feature
    defaults = [registry.get(n) for n in profile.targets or registry.standard_names]
    chosen: list[str] = []
    for app, named in sides:
        chosen += named or [t.name for t in defaults if t.app is app and t.supports(feature)]
    return list(dict.fromkeys(chosen))


def measuring_command(check: Check) -> str:
    """A `twinbench run` command that really measures `check` (tests parse and verify it)."""
    if check.kind is CheckKind.MICRO:
        return MICRO_COMMAND
    assert check.scenario is not None
    users = ""
    chosen = next(
        (p for p in map(profiles.get, _PROFILES) if reaches(check, p.levels_for(check.scenario))),
        None,
    )
    if chosen is None:  # no profile's levels reach the claim's load: give it explicitly
        chosen = profiles.get(_PROFILES[0])
        low = chosen.levels_for(check.scenario)[0].users or 16
        if check.metric is Metric.CAPACITY:
            users = f"{low},{int(low * (check.factor or 1))}"
        else:
            users = f"{int(check.min_load or low)}"
    parts = ["twinbench", "run", "--profile", chosen.name]
    if check.config is not None:  # a team's [[claim]]: its targets and scenarios live there
        parts += ["--config", shlex.quote(check.config)]
    parts += ["--scenarios", check.scenario]
    targets = _targets(check, chosen)
    if targets:
        parts += ["--targets", ",".join(targets)]
    if users:
        parts += ["--users", users]
    return " ".join(parts)
