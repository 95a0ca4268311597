"""Older results folders, brought up to the current schema as they are read. Pure.

A results folder is never rewritten (docs/results-format.md): what a run wrote stays as it
wrote it, and every reader upgrades the JSON it loads, one schema step at a time, before
decoding it into results.model's classes. A folder newer than this twinbench is refused by
store.load_run with one line, since its fields may mean what this version cannot know.

Schema 2 → 3:
- `scenario_defs`: each scenario as this version's catalogue defines it (a schema 2 run only
  ever ran built-in scenarios; a name the catalogue no longer knows gets a plain definition:
  its file, throughput as the figure of merit, every request counted);
- `reason_kind` of each cell: the reason's first word, the one place it is parsed back.

Schema 3 → 4:
- each target's `url` and `pid_file`: "" (every schema 3 target was started by twinbench);
- each cell's `loader_counts`: [] (schema 3 did not keep the workers' own counts).

Schema 4 → 5 (a team's own scenarios and claims): every scenario of a schema 4 run was
built in (`source` "builtin", no locustfile hash, the profile's ladder and the run's SLO),
and the run stored no claims of its own (`claims` empty); cells are unchanged.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any

from twinbench.define import scenarios as catalogue
from twinbench.define.targets import Feature
from twinbench.errors import UsageError
from twinbench.results.codec import to_json
from twinbench.results.model import SCHEMA_VERSION, CellStatus, ReasonKind
from twinbench.results.metrics import Metric

Raw = dict[str, Any]


def _scenario_def(name: str) -> Raw:
    try:
        return dict(to_json(catalogue.get(name)))
    except UsageError:
        plain = catalogue.Scenario(name, f"{name}.py", Feature.TECHEMPOWER, Metric.THROUGHPUT, "")
        return dict(to_json(plain))


def _reason_kind(cell: Mapping[str, Any]) -> str | None:
    status, reason = cell.get("status"), str(cell.get("reason", ""))
    if status == CellStatus.OK.value:
        return None
    if status == CellStatus.UNSUPPORTED.value:
        return ReasonKind.UNSUPPORTED.value
    head = reason.split(":", 1)[0].strip()
    with contextlib.suppress(ValueError):
        return ReasonKind(head).value
    return None  # a reason this version has no kind for: shown as written


def _run_2_to_3(run: Raw) -> Raw:
    return {**run, "scenario_defs": [_scenario_def(s) for s in run.get("scenarios", [])]}


def _cell_2_to_3(cell: Raw) -> Raw:
    return {**cell, "reason_kind": _reason_kind(cell)}


def _run_3_to_4(run: Raw) -> Raw:
    targets = [{"url": "", "pid_file": "", **t} for t in run.get("targets", [])]
    return {**run, "targets": targets}


def _cell_3_to_4(cell: Raw) -> Raw:
    return {"loader_counts": [], **cell}


def _run_4_to_5(run: Raw) -> Raw:
    defs = [
        {"source": catalogue.BUILTIN, "locustfile_sha256": "", "users": [], "rates": [],
         "slo_p99_ms": None, **d}
        for d in run.get("scenario_defs", [])
    ]
    return {**run, "scenario_defs": defs, "claims": run.get("claims", [])}


def _same(cell: Raw) -> Raw:
    return cell


# version → (run.json step, cells.jsonl line step) to the next version
_STEPS: Mapping[int, tuple[Callable[[Raw], Raw], Callable[[Raw], Raw]]] = {
    2: (_run_2_to_3, _cell_2_to_3),
    3: (_run_3_to_4, _cell_3_to_4),
    4: (_run_4_to_5, _same),
}
OLDEST = min(_STEPS)


def readable(version: object) -> bool:
    return isinstance(version, int) and OLDEST <= version <= SCHEMA_VERSION


def upgrade_run(run: Raw) -> Raw:
    """run.json's content at SCHEMA_VERSION (its schema_version says so once upgraded)."""
    version = int(run["schema_version"])
    while version < SCHEMA_VERSION:
        run = _STEPS[version][0](run)
        version += 1
    return {**run, "schema_version": version}


def upgrade_cell(cell: Raw, version: int) -> Raw:
    """One cells.jsonl record written by a run of schema `version`, at SCHEMA_VERSION."""
    while version < SCHEMA_VERSION:
        cell = _STEPS[version][1](cell)
        version += 1
    return cell
