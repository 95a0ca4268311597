"""`analyse(results)`: a loaded run → its RunIndex, capacities and capacity estimates
included, computed once. Pure.

The one entry point into the analysis for a loaded run: the report, the summary and the
gate call it once per run and pass the index on.
"""

from __future__ import annotations

import dataclasses

from twinbench.analysis.capacity import capacity_figures
from twinbench.analysis.estimate import estimates
from twinbench.analysis.index import RunIndex, build_index
from twinbench.results.model import RunResults


def analyse(results: RunResults) -> RunIndex:
    index = build_index(results)
    found = {(e.scenario, e.target): e for e in estimates(index)}
    return dataclasses.replace(index, capacities=capacity_figures(index), estimates=found)
