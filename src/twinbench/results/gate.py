"""A gate's folder: gate.json (everything to recompute the verdict), verdict.json (versioned),
summary.md (for $GITHUB_STEP_SUMMARY and pull-request comments), bmf.json (Bencher Metric
Format) and github-action-benchmark.json; the raw runs are under runs/, each a results
folder like `twinbench run`'s. Also the verdict lines the CLI prints first.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twinbench.analysis.gate import (
    Assessment,
    CellFigures,
    GateRun,
    MetricOutcome,
    Subject,
    Verdict,
    assess,
)
from twinbench.analysis.gate_throughput import (
    SaturationCell,
    SaturationFigure,
    SaturationRun,
    saturation_figures,
)
from twinbench.define.gate import GATE_NAMES, Design, GateRule, Side, Test, Threshold
from twinbench.errors import UsageError
from twinbench.results.metrics import Metric

GATE_FILE = "gate.json"
VERDICT_FILE = "verdict.json"
SUMMARY_FILE = "summary.md"
BMF_FILE = "bmf.json"
GAB_FILE = "github-action-benchmark.json"
VERDICT_FORMAT = "twinbench-gate-verdict"
VERDICT_VERSION = 1
GATE_FORMAT = "twinbench-gate"
GATE_VERSION = 1

WORDS = {
    Verdict.PASS: "no regression",
    Verdict.REGRESSION: "REGRESSION",
    Verdict.IMPROVEMENT: "improvement",
    Verdict.INCONCLUSIVE: "INCONCLUSIVE",
    Verdict.PENDING: "pending",
}
UNITS = {
    Metric.CPU_PER_REQUEST: "µs/req",
    Metric.LATENCY_P50: "ms",
    Metric.LATENCY_P99: "ms",
    Metric.ERROR_RATE: "",
}
PACKAGES_SHOWN = (
    "twinbench", "fastapi", "starlette", "pydantic", "pydantic-core", "flask", "werkzeug",
    "uvicorn", "gunicorn", "gevent", "waitress", "uvloop", "httptools",
)  # fmt: skip


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else round(x, 6)


def _pct(x: float) -> str:
    return "–" if not math.isfinite(x) else f"{x * 100:+.1f} %"


# -- what the gate keeps -----------------------------------------------------------------------
@dataclass(frozen=True)
class SideInfo:
    side: Side
    spec: str
    root: str
    revision: str
    dirty: bool
    python: str
    python_version: str
    packages: Mapping[str, str]
    config: str
    # The config's own scenarios the gate ran on this side: name → SHA-256 of this side's
    # locustfile (each side runs its own copy; empty for built-in scenarios only).
    locustfiles: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class GateRecord:
    """gate.json, read back: enough to recompute every verdict and draw every pair."""

    gate_id: str
    started_utc: str
    finished_utc: str
    elapsed_s: float
    command: tuple[str, ...]
    rate: float
    rate_source: str
    stopped: str
    rule: GateRule
    sides: tuple[SideInfo, SideInfo]
    subjects: tuple[Subject, ...]
    runs: tuple[GateRun, ...]
    folders: Mapping[int, str]  # run order → its results folder (relative)
    max_seconds: float
    windows: tuple[float, float]  # warm-up, measured seconds per cell
    # Throughput at saturation after the verdict (reported, never gated); absent in gates
    # that had no time left for it, and in gate.json files written before it existed.
    saturation: tuple[SaturationRun, ...] = ()
    saturation_folders: Mapping[int, str] = dataclasses.field(default_factory=dict)
    # How each pair was measured; gate.json files written before the duet were ABBA.
    design: Design = Design.ABBA

    @functools.cached_property
    def saturation_figures(self) -> tuple[SaturationFigure, ...]:
        """Derived once (bootstrap intervals): the CLI, summary.md, verdict.json and the
        report all show it."""
        return saturation_figures(self.subjects, self.saturation)

    def assessment(self) -> Assessment:
        """The verdict recomputed from the runs (the sequential rule as the gate applied it)."""
        from twinbench.analysis.gate import decide_pairs

        return decide_pairs(self.subjects, self.runs, self.rule)


def _rule_json(rule: GateRule) -> dict[str, Any]:
    return {
        "alpha": rule.alpha,
        "screen_alpha": rule.screen_alpha,
        "power": rule.power,
        "first_pairs": rule.first_pairs,
        "confirm_pairs": rule.confirm_pairs,
        "extend_pairs": rule.extend_pairs,
        "max_pairs": rule.max_pairs,
        "thresholds": [
            {
                "metric": t.name,
                "stored_as": t.metric.value,
                "min_effect": t.min_effect,
                "detect": t.detect,
                "test": t.test.value,
                "primary": t.primary,
            }
            for t in rule.thresholds
        ],
    }


def _rule_from(raw: Mapping[str, Any]) -> GateRule:
    ths = tuple(
        Threshold(Metric(t["stored_as"]), t["min_effect"], t["detect"], Test(t["test"]), t["primary"])
        for t in raw["thresholds"]
    )
    return GateRule(
        alpha=raw["alpha"],
        screen_alpha=raw["screen_alpha"],
        power=raw["power"],
        first_pairs=raw["first_pairs"],
        confirm_pairs=raw["confirm_pairs"],
        extend_pairs=raw["extend_pairs"],
        max_pairs=raw["max_pairs"],
        thresholds=ths,
    )


def _run_json(run: GateRun, folder: str, elapsed: float) -> dict[str, Any]:
    return {
        "order": run.order,
        "pair": run.pair,
        "side": run.side.value,
        "kept": run.kept,
        "reason": run.reason,
        "folder": folder,
        "elapsed_s": elapsed,
        "cells": {
            key: {
                "values": {m.value: v for m, v in c.values.items()},
                "requests": c.requests,
                "failures": c.failures,
            }
            for key, c in run.cells.items()
        },
    }


def gate_json(record: GateRecord, elapsed: Mapping[int, float]) -> dict[str, Any]:
    return {
        "format": GATE_FORMAT,
        "version": GATE_VERSION,
        "gate_id": record.gate_id,
        "started_utc": record.started_utc,
        "finished_utc": record.finished_utc,
        "elapsed_s": record.elapsed_s,
        "command": list(record.command),
        "rate": record.rate,
        "rate_source": record.rate_source,
        "stopped": record.stopped,
        "max_seconds": record.max_seconds,
        "windows": list(record.windows),
        "design": record.design.value,
        "rule": _rule_json(record.rule),
        "sides": [_side_json(s) for s in record.sides],
        "subjects": [{"target": s.target, "scenario": s.scenario} for s in record.subjects],
        "runs": [
            _run_json(r, record.folders.get(r.order, ""), elapsed.get(r.order, 0.0))
            for r in record.runs
        ],
        "saturation": [
            {
                "order": r.order,
                "side": r.side.value,
                "users": r.users,
                "folder": record.saturation_folders.get(r.order, ""),
                "cells": {k: dataclasses.asdict(c) for k, c in r.cells.items()},
            }
            for r in record.saturation
        ],
    }


def _side_json(s: SideInfo) -> dict[str, Any]:
    return {
        "side": s.side.value,
        "spec": s.spec,
        "root": s.root,
        "revision": s.revision,
        "dirty": s.dirty,
        "python": s.python,
        "python_version": s.python_version,
        "packages": dict(s.packages),
        "config": s.config,
        "locustfiles": dict(s.locustfiles),
    }


def load_gate(path: Path) -> GateRecord:
    """gate.json of a gate folder; UsageError (one line) when it is not one."""
    try:
        raw = json.loads((path / GATE_FILE).read_text(encoding="utf-8"))
        if raw.get("format") != GATE_FORMAT:
            raise ValueError("not a gate file")
        if raw.get("version") != GATE_VERSION:
            raise ValueError(f"gate.json version {raw.get('version')} (this reads {GATE_VERSION})")
        sides = tuple(
            SideInfo(
                Side(s["side"]), s["spec"], s["root"], s["revision"], s["dirty"], s["python"],
                s["python_version"], s["packages"], s["config"], s.get("locustfiles", {}),
            )
            for s in raw["sides"]
        )  # fmt: skip
        runs = tuple(
            GateRun(
                side=Side(r["side"]),
                order=r["order"],
                pair=r["pair"],
                kept=r["kept"],
                reason=r["reason"],
                cells={
                    k: CellFigures(
                        {Metric(m): float(v) for m, v in c["values"].items()},
                        int(c["requests"]),
                        int(c["failures"]),
                    )
                    for k, c in r["cells"].items()
                },
            )
            for r in raw["runs"]
        )
        return GateRecord(
            gate_id=raw["gate_id"],
            started_utc=raw["started_utc"],
            finished_utc=raw["finished_utc"],
            elapsed_s=raw["elapsed_s"],
            command=tuple(raw["command"]),
            rate=raw["rate"],
            rate_source=raw["rate_source"],
            stopped=raw["stopped"],
            rule=_rule_from(raw["rule"]),
            sides=(sides[0], sides[1]),
            subjects=tuple(Subject(s["target"], s["scenario"]) for s in raw["subjects"]),
            runs=runs,
            folders={r["order"]: r["folder"] for r in raw["runs"]},
            max_seconds=raw["max_seconds"],
            windows=(raw["windows"][0], raw["windows"][1]),
            design=Design(raw.get("design", Design.ABBA.value)),
            saturation=tuple(
                SaturationRun(
                    side=Side(r["side"]),
                    order=r["order"],
                    users=r["users"],
                    cells={k: SaturationCell(**c) for k, c in r["cells"].items()},
                )
                for r in raw.get("saturation", [])  # optional: gates before it have none
            ),
            saturation_folders={r["order"]: r["folder"] for r in raw.get("saturation", [])},
        )
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise UsageError(f"{path}: not a readable gate folder ({exc})") from None


def is_gate_dir(path: Path) -> bool:
    return (path / GATE_FILE).is_file()


# -- verdict lines, verdict.json --------------------------------------------------------------
def _estimate_text(o: MetricOutcome) -> str:
    if o.errors is not None:
        e = o.errors
        return f"errors {e.candidate_rate * 100:.3f} % vs {e.baseline_rate * 100:.3f} %"
    est = o.estimate
    if est is None:
        return "no pairs"
    text = f"{_pct(est.change)}"
    if math.isfinite(est.low):
        text += f" [{_pct(est.low - 1)} … {_pct(est.high - 1)}]"
    text += f" over {est.n} pairs, noise ±{est.noise * 100:.1f} %/pair, could detect {_pct(est.sde)}"
    return text


def verdict_lines(a: Assessment) -> list[str]:
    """One line per gated metric, printed before anything else."""
    lines = []
    for o in a.outcomes:
        lines.append(
            f"{o.verdict.value.upper():<12} {o.threshold.name:<6} {o.subject.key}: "
            f"{_estimate_text(o)}"
        )
    return lines


def _outcome_json(o: MetricOutcome) -> dict[str, Any]:
    out: dict[str, Any] = {
        "scenario": o.subject.scenario,
        "target": o.subject.target,
        "metric": o.threshold.name,
        "stored_as": o.threshold.metric.value,
        "unit": o.threshold.metric.unit,
        "primary": o.threshold.primary,
        "verdict": o.verdict.value,
        "why": o.sentence,
        "min_effect": o.threshold.min_effect,
        "detect": o.threshold.detect,
        "confirmation_stage": o.flagged,
    }
    if o.estimate is not None:
        e = o.estimate
        out.update(
            pairs=e.n,
            ratio=_num(e.ratio),
            ratio_low_95=_num(e.low),
            ratio_high_95=_num(e.high),
            p_slower=_num(e.p_slower),
            p_faster=_num(e.p_faster),
            noise_per_pair=_num(e.noise),
            run_cv=_num(e.run_cv),
            smallest_detectable_effect=_num(e.sde),
            baseline_mean=_num(e.baseline_mean),
            candidate_mean=_num(e.candidate_mean),
            pairs_needed=o.pairs_needed,
        )
    if o.errors is not None:
        e2 = o.errors
        out.update(
            baseline_requests=e2.baseline_requests,
            baseline_failures=e2.baseline_failures,
            candidate_requests=e2.candidate_requests,
            candidate_failures=e2.candidate_failures,
            candidate_runs_failing=e2.candidate_runs_failing,
            difference=_num(e2.difference),
            p_higher=_num(e2.p_higher),
        )
    return out


def verdict_json(record: GateRecord, a: Assessment) -> dict[str, Any]:
    return {
        "format": VERDICT_FORMAT,
        "version": VERDICT_VERSION,
        "gate_id": record.gate_id,
        "verdict": a.verdict.value,
        "exit_code": a.exit_code,
        "pairs": a.pairs,
        "design": record.design.value,
        "runs": len(record.runs),
        "discarded_runs": a.discarded,
        "discard_reasons": dict(a.discard_reasons),
        "rate_rps": record.rate,
        "rate_source": record.rate_source,
        "stopped_early": record.stopped,
        "elapsed_s": record.elapsed_s,
        "sides": {s.side.value: _side_json(s) for s in record.sides},
        "metrics": [_outcome_json(o) for o in a.outcomes],
        # Reported, never gated (and empty when no time was left for it).
        "throughput_at_saturation": [_saturation_json(f) for f in record.saturation_figures],
    }


def _saturation_json(f: SaturationFigure) -> dict[str, Any]:
    ci = f.ci
    return {
        "scenario": f.subject.scenario,
        "target": f.subject.target,
        "users": f.users,
        "baseline_rps": list(f.baseline),
        "candidate_rps": list(f.candidate),
        "ratio": _num(ci.ratio) if ci else None,
        "ratio_low": _num(ci.low) if ci and ci.low is not None else None,
        "ratio_high": _num(ci.high) if ci and ci.high is not None else None,
        "load_generator_bound_runs": f.loader_bound,
        "runs": f.runs,
        "gated": False,
    }


# -- bmf.json and github-action-benchmark ------------------------------------------------------
_BMF_MEASURES = {
    Metric.CPU_PER_REQUEST: ("cpu-per-request", 1.0),  # µs
    Metric.LATENCY_P50: ("latency", 1e6),  # Bencher's latency is in nanoseconds
    Metric.LATENCY_P99: ("latency-p99", 1e6),
}


def _candidate_values(record: GateRecord, key: str, metric: Metric) -> list[float]:
    return [
        r.cells[key].values[metric]
        for r in record.runs
        if r.kept and r.side is Side.CANDIDATE and key in r.cells and metric in r.cells[key].values
    ]


def bmf_json(record: GateRecord, a: Assessment) -> dict[str, Any]:
    """The candidate's figures (mean, with the lowest and highest run) per benchmark
    `<scenario>/<target>`; plus its ratio to the baseline of this job (`gate-ratio-*`)."""
    out: dict[str, dict[str, Any]] = {}
    for s in record.subjects:
        measures: dict[str, Any] = {}
        for metric, (name, scale) in _BMF_MEASURES.items():
            vals = _candidate_values(record, s.key, metric)
            if vals:
                measures[name] = {
                    "value": sum(vals) / len(vals) * scale,
                    "lower_value": min(vals) * scale,
                    "upper_value": max(vals) * scale,
                }
        for o in a.outcomes:
            if o.subject == s and o.estimate is not None and math.isfinite(o.estimate.low):
                measures[f"gate-ratio-{o.threshold.name}"] = {
                    "value": o.estimate.ratio,
                    "lower_value": o.estimate.low,
                    "upper_value": o.estimate.high,
                }
        out[s.key] = measures
    return out


def gab_json(record: GateRecord, a: Assessment) -> list[dict[str, Any]]:
    """github-action-benchmark, `tool: customSmallerIsBetter`: every entry is smaller-is-better."""
    out: list[dict[str, Any]] = []
    for o in a.outcomes:
        if o.estimate is None:
            continue
        vals = _candidate_values(record, o.subject.key, o.threshold.metric)
        if not vals:
            continue
        mean = sum(vals) / len(vals)
        sd = (sum((v - mean) ** 2 for v in vals) / (len(vals) - 1)) ** 0.5 if len(vals) > 1 else 0
        out.append(
            {
                "name": f"{o.subject.key} {o.threshold.name}",
                "value": round(mean, 4),
                "unit": UNITS[o.threshold.metric],
                "range": f"± {sd:.4g}",
                "extra": f"{WORDS[o.verdict]}; vs baseline {_estimate_text(o)}",
            }
        )
    return out


# -- summary.md ----------------------------------------------------------------------------
def _ratio_cell(o: MetricOutcome) -> str:
    e = o.estimate
    if e is None:
        if o.errors is not None:
            d = o.errors.difference * 100
            return f"{d:+.3f} pp"
        return "–"
    text = f"{e.ratio:.3f}×"
    if math.isfinite(e.low):
        text += f" [{e.low:.3f}–{e.high:.3f}]"
    return text


DESIGN_WORDS = {
    Design.DUET: "duet: both sides at once, a fresh server each",
    Design.ABBA: "ABBA, a fresh server per run",
}


def summary_md(record: GateRecord, a: Assessment) -> str:
    icon = {Verdict.PASS: "✅", Verdict.REGRESSION: "❌", Verdict.INCONCLUSIVE: "⚠️"}
    v = a.verdict
    lines = [
        f"## twinbench gate: {icon.get(v, '')} {WORDS[v]} (exit {a.exit_code})",
        "",
        f"{a.pairs} pairs ({DESIGN_WORDS[record.design]}) at {record.rate:g} requests/s, "
        f"{record.windows[1]:g} s measured per run; {a.discarded} run(s) discarded and "
        f"replaced" + (f" ({', '.join(f'{k}: {n}' for k, n in a.discard_reasons.items())})" if a.discard_reasons else "")
        + f"; {record.elapsed_s:.0f} s in all."
        + (f" Stopped early: {record.stopped}." if record.stopped else ""),
        "",
        "| scenario / target | metric | verdict | candidate / baseline [95 % CI] | pairs | "
        "noise per pair | smallest detectable | baseline → candidate |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for o in a.outcomes:
        e = o.estimate
        unit = UNITS[o.threshold.metric]
        if e is not None:
            means = f"{e.baseline_mean:.4g} → {e.candidate_mean:.4g} {unit}"
            noise = f"±{e.noise * 100:.1f} %"
            sde = _pct(e.sde)
            n = str(e.n)
        elif o.errors is not None:
            er = o.errors
            means = f"{er.baseline_rate * 100:.3f} % → {er.candidate_rate * 100:.3f} %"
            noise, sde, n = "–", "–", "–"
        else:
            means, noise, sde, n = "–", "–", "–", "0"
        name = o.threshold.name + (" (primary)" if o.threshold.primary else "")
        lines.append(
            f"| {o.subject.key} | {name} | {WORDS[o.verdict]} | {_ratio_cell(o)} | {n} | "
            f"{noise} | {sde} | {means} |"
        )
    sat = record.saturation_figures
    if sat:
        lines += ["", "Throughput at saturation (closed model, ABBA after the verdict; "
                  "reported, not gated):", ""]  # fmt: skip
        lines += [f"- {f.text}" for f in sat]
    lines += ["", "<details><summary>Why each verdict</summary>", ""]
    for o in a.outcomes:
        th = o.threshold
        lines.append(
            f"- **{o.subject.key} {th.name}**: {WORDS[o.verdict]}: {o.sentence} "
            f"(minimum effect {th.min_effect * 100:g} %"
            + (f", must detect {th.detect * 100:g} %" if th.test is Test.LOG_RATIO else "")
            + ")"
        )
    lines += ["", "</details>", "", "| | baseline | candidate |", "|---|---|---|"]
    b, c = record.sides
    rows = [
        ("given as", b.spec, c.spec),
        ("revision", b.revision + (" (dirty)" if b.dirty else ""),
         c.revision + (" (dirty)" if c.dirty else "")),
        ("Python", f"{b.python_version} ({b.python})", f"{c.python_version} ({c.python})"),
        ("config", b.config or "–", c.config or "–"),
    ]  # fmt: skip
    for name in sorted({*b.locustfiles, *c.locustfiles}):
        bh, ch = b.locustfiles.get(name, "?"), c.locustfiles.get(name, "?")
        rows.append((f"{name} locustfile sha256", bh[:16], ch[:16]))
    for pkg in PACKAGES_SHOWN:
        bv, cv = b.packages.get(pkg, "?"), c.packages.get(pkg, "?")
        if bv == "not installed" and cv == "not installed":
            continue
        rows.append((pkg, bv, cv))
    lines += [f"| {k} | `{x}` | `{y}`{' **≠**' if x != y else ''} |" for k, x, y in rows]
    lines += [
        "",
        f"Rate: {record.rate_source}. Verdicts: *no regression* (exit 0), *REGRESSION* "
        "(a slowdown of at least the minimum effect, significant and confirmed on fresh "
        "pairs: exit 1), *INCONCLUSIVE* (the measured noise was too large to detect the "
        "requested effect within the allowed pairs: exit 3), *improvement* (faster by at "
        "least the minimum effect: exit 0).",
        "",
    ]
    return "\n".join(lines)


def write_gate(out: Path, record: GateRecord, a: Assessment, elapsed: Mapping[int, float]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    _atomic_write(out / GATE_FILE, json.dumps(gate_json(record, elapsed), indent=1) + "\n")
    _atomic_write(out / VERDICT_FILE, json.dumps(verdict_json(record, a), indent=2) + "\n")
    _atomic_write(out / SUMMARY_FILE, summary_md(record, a))
    _atomic_write(out / BMF_FILE, json.dumps(bmf_json(record, a), indent=2) + "\n")
    _atomic_write(out / GAB_FILE, json.dumps(gab_json(record, a), indent=2) + "\n")


def assessment_of(record: GateRecord) -> Assessment:
    """Recompute the verdicts from gate.json's runs (what `twinbench report` shows)."""
    return assess(record.subjects, record.runs, record.rule, final=True) if not record.runs else record.assessment()
