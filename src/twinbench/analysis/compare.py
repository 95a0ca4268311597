"""Two runs compared: each target × scenario in both, at the highest level valid in both. Pure.

The ratio is after / before over the per-repeat values, with the same bootstrap interval as
the headline (analysis.stats); `twinbench report BEFORE AFTER` shows these deltas.
"""

from __future__ import annotations

from dataclasses import dataclass

from twinbench.analysis.index import RunIndex, load_label
from twinbench.analysis.stats import RatioCI, ratio_ci
from twinbench.results.metrics import HEADLINE, Metric


@dataclass(frozen=True)
class Delta:
    scenario: str
    target: str
    metric: Metric
    before: float  # mean over the level's valid repeats, in the metric's shown unit
    after: float
    ci: RatioCI | None  # after / before
    load: str


def deltas(before: RunIndex, after: RunIndex) -> tuple[Delta, ...]:
    out = []
    for scenario in after.scenario_names():
        for target in after.targets_of(scenario):
            common = set(before.valid_levels(scenario, target)) & set(
                after.valid_levels(scenario, target)
            )
            if not common:
                continue
            level = max(common)
            load = load_label(after.per_level(scenario, target)[level][0])
            for metric in HEADLINE:
                x = [v / metric.scale for v in before.repeats(scenario, target, level, metric)]
                y = [v / metric.scale for v in after.repeats(scenario, target, level, metric)]
                if x and y:
                    mean_x, mean_y = sum(x) / len(x), sum(y) / len(y)
                    out.append(
                        Delta(scenario, target, metric, mean_x, mean_y, ratio_ci(y, x), load)
                    )
    return tuple(out)
