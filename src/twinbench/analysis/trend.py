"""Several runs as a trend: the headline ratios and each target's figure of merit, run by run,
ordered by time, with what changed between consecutive runs. Pure.

A ratio (FastAPI / Flask measured side by side on one machine) is comparable across machines;
an absolute figure (req/s, ms, requests in flight) is not. When the runs come from more than
one machine the trend says so, and marks on its axis where the machine changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from twinbench.analysis.headline import merit_score
from twinbench.analysis.index import RunIndex
from twinbench.analysis.summary import RatioFigure, Summary
from twinbench.define.targets import App
from twinbench.results.metrics import Metric
from twinbench.results.model import RunInfo

MACHINES_NOTE = "runs from different machines: ratios comparable, absolute figures not"


@dataclass(frozen=True)
class TrendRun:
    """One run on the trend's axis, and what changed since the run before it."""

    run_id: str
    started_utc: str
    commit: str  # short, "+dirty" with uncommitted changes
    machine: str  # the machine in words
    machine_key: int  # runs with the same key ran on the same machine (first seen: 0, ...)
    changes: tuple[str, ...]  # since the previous run; () for the first

    @property
    def label(self) -> str:
        """The axis label: the run's time and its commit."""
        stamp = self.started_utc.replace("T", " ").rstrip("Z")[:16]
        return f"{stamp}\n{self.commit}"


@dataclass(frozen=True)
class RatioPoint:
    """A scenario's deciding FastAPI / Flask ratio in one run (None: no valid comparison)."""

    figure: RatioFigure | None
    flask_target: str | None
    fastapi_target: str | None


@dataclass(frozen=True)
class ScenarioTrend:
    scenario: str
    merit: Metric
    ratios: tuple[RatioPoint, ...]  # one per run, in time order
    # target → its figure of merit per run (shown unit; None where it had no valid level)
    merits: tuple[tuple[str, bool, tuple[float | None, ...]], ...]  # (target, is Flask, values)


@dataclass(frozen=True)
class Trend:
    runs: tuple[TrendRun, ...]  # in time order
    scenarios: tuple[ScenarioTrend, ...]

    @property
    def machines(self) -> int:
        return len({r.machine_key for r in self.runs})

    @property
    def note(self) -> str:
        return MACHINES_NOTE if self.machines > 1 else ""


def machine_text(run: RunInfo) -> str:
    m = run.machine
    return (
        f"{m.cpu_model}, {m.logical_cpus} logical / {m.physical_cpus} physical CPUs, "
        f"{m.memory_bytes / 2**30:.1f} GiB, {m.os}"
    )


def _commit(run: RunInfo) -> str:
    return run.git.commit[:10] + ("+dirty" if run.git.dirty else "")


def changes(before: RunInfo, after: RunInfo) -> tuple[str, ...]:
    """What differs between two runs' configuration, in a few words each."""
    out = []
    if machine_text(before) != machine_text(after):
        out.append("machine")
    if _commit(before) != _commit(after):
        out.append(f"commit {_commit(before)} → {_commit(after)}")
    keys = sorted(set(before.packages) | set(after.packages))
    for k in keys:
        a, b = before.packages.get(k, "absent"), after.packages.get(k, "absent")
        if a != b:
            out.append(f"{k} {a} → {b}")
    if before.machine.python != after.machine.python:
        out.append(f"Python {before.machine.python} → {after.machine.python}")
    simple = (
        ("database", before.database_kind, after.database_kind),
        ("profile", before.profile, after.profile),
        ("repeats", str(before.repeats), str(after.repeats)),
        ("load generator workers", str(before.loader_workers), str(after.loader_workers)),
        ("pinning", str(before.pinning), str(after.pinning)),
    )
    for name, a, b in simple:
        if a != b:
            out.append(name if name == "pinning" else f"{name} {a} → {b}")
    targets_a = {t.name: t for t in before.targets}
    targets_b = {t.name: t for t in after.targets}
    changed = sorted(n for n in set(targets_a) & set(targets_b) if targets_a[n] != targets_b[n])
    added = sorted(set(targets_b) - set(targets_a))
    removed = sorted(set(targets_a) - set(targets_b))
    if changed:
        out.append("configuration of " + ", ".join(changed))
    if added:
        out.append("targets added: " + ", ".join(added))
    if removed:
        out.append("targets removed: " + ", ".join(removed))
    return tuple(out)


def trend(indexes: Sequence[RunIndex], summaries: Sequence[Summary]) -> Trend:
    """`indexes` and their `summaries` (analysis.summary) of the same runs, in any order:
    the trend orders them by start time (then run id)."""
    order = sorted(
        range(len(indexes)),
        key=lambda i: (indexes[i].results.run.started_utc, indexes[i].results.run.run_id),
    )
    runs: list[TrendRun] = []
    keys: dict[str, int] = {}
    previous: RunInfo | None = None
    for i in order:
        info = indexes[i].results.run
        machine = machine_text(info)
        keys.setdefault(machine, len(keys))
        runs.append(
            TrendRun(
                info.run_id,
                info.started_utc,
                _commit(info),
                machine,
                keys[machine],
                changes(previous, info) if previous is not None else (),
            )
        )
        previous = info
    names = list(dict.fromkeys(s for i in order for s in indexes[i].scenario_names()))
    scenarios = []
    for name in names:
        ratios = []
        for i in order:
            found = next((s for s in summaries[i].scenarios if s.scenario == name), None)
            ratios.append(
                RatioPoint(found.deciding, found.flask_target, found.fastapi_target)
                if found is not None
                else RatioPoint(None, None, None)
            )
        merit = next(
            (indexes[i].merit(name) for i in order if indexes[i].scenario(name) is not None),
            Metric.THROUGHPUT,
        )
        targets: dict[str, bool] = {}
        for i in order:
            for t in indexes[i].targets_of(name):
                targets.setdefault(t, indexes[i].app_of(t) is App.FLASK)
        merits = []
        for target, flask in targets.items():
            values = []
            for i in order:
                ix = indexes[i]
                score = merit_score(ix, name, target, merit) if (name, target) in ix.cells else None
                values.append(score / merit.scale if score is not None else None)
            merits.append((target, flask, tuple(values)))
        scenarios.append(ScenarioTrend(name, merit, tuple(ratios), tuple(merits)))
    return Trend(tuple(runs), tuple(scenarios))
