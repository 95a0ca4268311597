"""Throughput at saturation in a gate: reported beside the verdict, never gated. Pure.

The gate decides on CPU time per request and latency at a fixed arrival rate, well below
capacity, because that is where a pair of runs is steady enough to compare. How many
requests a side serves when pushed as hard as the load generator can push is what a team
asks next, so after the verdict the gate runs each side a few times more in the closed
model (ABBA, a fresh server per run) and reports the requests per second, the candidate /
baseline ratio with its bootstrap interval, and how many of those runs the load generator,
not the target, was the limit of (then the figure is Locust's ceiling, a lower bound of the
target's, and the ratio says little). It is not gated: a saturated run on a shared 2-core
machine moves by ±30 % between repeats, so a few runs could not fail a build fairly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from twinbench.analysis.gate import Subject
from twinbench.analysis.stats import RatioCI, ratio_ci
from twinbench.define.gate import Side

LOADER_BOUND = "load-generator-bound"  # ReasonKind.LOAD_GENERATOR_BOUND's value


@dataclass(frozen=True)
class SaturationCell:
    """One subject in one saturation run."""

    rps: float | None  # completed requests per second in the measured window
    status: str  # the cell's status: ok | invalid | failed | ...
    reason_kind: str | None  # why it is not ok (e.g. load-generator-bound)
    target_util: float | None  # how busy the target's CPUs were (0–1)

    @property
    def loader_bound(self) -> bool:
        return self.reason_kind == LOADER_BOUND


@dataclass(frozen=True)
class SaturationRun:
    side: Side
    order: int  # its place in the gate's run sequence, after the paired runs
    users: int  # closed-model users
    cells: Mapping[str, SaturationCell]  # by Subject.key


@dataclass(frozen=True)
class SaturationFigure:
    subject: Subject
    users: int
    baseline: tuple[float, ...]  # req/s, one per run with a figure
    candidate: tuple[float, ...]
    ci: RatioCI | None  # candidate / baseline
    loader_bound: int  # runs (either side) where Locust was the limit
    runs: int  # runs of this subject (either side), with or without a figure

    @property
    def text(self) -> str:
        """One sentence for summary.md and the CLI."""
        if not self.baseline or not self.candidate:
            return f"{self.subject.key}: no throughput figure on both sides"
        b = sum(self.baseline) / len(self.baseline)
        c = sum(self.candidate) / len(self.candidate)
        ratio = ""
        if self.ci is not None:
            ratio = f", candidate/baseline {self.ci.ratio:.2f}×"
            if self.ci.low is not None and self.ci.high is not None:
                ratio += f" [{self.ci.low:.2f}–{self.ci.high:.2f}]"
        bound = ""
        if self.loader_bound:
            bound = (
                f"; {self.loader_bound} of {self.runs} runs load-generator-bound: those "
                "figures are Locust's ceiling, a lower bound of the target's"
            )
        return (
            f"{self.subject.key} at {self.users} users: baseline {b:,.0f} req/s, candidate "
            f"{c:,.0f} req/s{ratio} (reported, not gated{bound})"
        )


def saturation_figures(
    subjects: Sequence[Subject], runs: Sequence[SaturationRun]
) -> tuple[SaturationFigure, ...]:
    """Each subject's saturated throughput per side and the ratio; empty without runs."""
    if not runs:
        return ()
    out = []
    for s in subjects:
        cells = [(r.side, r.cells[s.key]) for r in runs if s.key in r.cells]
        per_side: dict[Side, list[float]] = {Side.BASELINE: [], Side.CANDIDATE: []}
        for side, cell in cells:
            # A loader-bound cell still counts (flagged): Locust's ceiling, a lower bound.
            if cell.rps is not None and (cell.status == "ok" or cell.loader_bound):
                per_side[side].append(cell.rps)
        base, cand = per_side[Side.BASELINE], per_side[Side.CANDIDATE]
        out.append(
            SaturationFigure(
                subject=s,
                users=max(r.users for r in runs),
                baseline=tuple(base),
                candidate=tuple(cand),
                ci=ratio_ci(cand, base) if base and cand else None,
                loader_bound=sum(1 for _, cell in cells if cell.loader_bound),
                runs=len(cells),
            )
        )
    return tuple(out)
