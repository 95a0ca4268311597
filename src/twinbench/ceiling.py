"""The load generator's own ceiling, read off a run's cells. Pure.

No separate measurement is needed: a cell of /plaintext (else /json) against a fast target
in which Locust itself ran out of CPU measured exactly that ceiling, on the same loader
CPUs and Locust processes as every other cell of the run. When no such cell exists, the
most Locust ever sent is a lower bound, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from .results import CellStatus, RunResults

# Trivial endpoints first: their cells measure Locust, not the app, once Locust saturates.
_PROBES = ("plaintext", "json")
# validity.judge's wording when the Locust processes themselves (not neighbours) were busy.
_LOCUST_BOUND = "load-generator-bound: the Locust processes"


@dataclass(frozen=True)
class LoaderCeiling:
    rps: float  # requests per second Locust completed in that cell
    saturated: bool  # True: Locust was the bottleneck, so this is the ceiling itself
    cell_id: str
    scenario: str
    target: str
    loader_cpus: tuple[int, ...]
    loader_processes: int

    @property
    def text(self) -> str:
        cpus = ",".join(map(str, self.loader_cpus)) or "unpinned"
        procs = f"{self.loader_processes} Locust process" + (
            "es" if self.loader_processes != 1 else ""
        )
        if self.saturated:
            return (
                f"{self.rps:,.0f} req/s: {procs} on CPU {cpus} ran out of CPU against "
                f"/{self.scenario} of {self.target} (cell {self.cell_id}); figures near this "
                "are the load generator's, not the target's"
            )
        return (
            f"≥ {self.rps:,.0f} req/s: {procs} on CPU {cpus} never ran out of CPU in this run "
            f"(highest: /{self.scenario} of {self.target}, cell {self.cell_id})"
        )


def loader_ceiling(results: RunResults) -> LoaderCeiling | None:
    throughput = {
        m.cell_id: m.value
        for m in results.metrics
        if m.metric == "throughput" and m.request == "total" and m.value is not None
    }
    by_id = {c.cell_id: c for c in results.cells}
    for saturated in (True, False):
        for scenario in _PROBES:
            best = None
            for cell_id, rps in throughput.items():
                cell = by_id.get(cell_id)
                if cell is None or cell.config.scenario != scenario:
                    continue
                bound = cell.status is CellStatus.INVALID and cell.reason.startswith(_LOCUST_BOUND)
                eligible = bound if saturated else cell.status is CellStatus.OK
                if eligible and (best is None or rps > best[0]):
                    best = (rps, cell)
            if best is not None:
                rps, cell = best
                return LoaderCeiling(
                    rps=float(rps),
                    saturated=saturated,
                    cell_id=cell.cell_id,
                    scenario=scenario,
                    target=cell.config.target,
                    loader_cpus=results.run.pinning.loader_cpus,
                    loader_processes=cell.loader_processes,
                )
    return None
