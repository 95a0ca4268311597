"""Helpers for the runner's process-starting tests: run the CLI, build in-process options."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from twinbench.analysis.validity import DEFAULT_SLO
from twinbench.cli.run import default_cpus
from twinbench.define.profiles import Level, Profile
from twinbench.define.scenarios import select
from twinbench.define.targets import default_registry
from twinbench.results.store import new_run_id
from twinbench.run.database import resolve_database
from twinbench.run.runner import RunOptions

TWINBENCH = [sys.executable, "-m", "twinbench", "run", "--no-progress"]


def cli_args(tmp: Path, *args: str) -> list[str]:
    return [
        *TWINBENCH,
        "--out",
        str(tmp / "run"),
        "--database",
        f"sqlite:///{tmp / 'db.sqlite3'}",
        *args,
    ]


def run_cli(tmp: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli_args(tmp, *args), capture_output=True, text=True, timeout=timeout)


def options(
    tmp: Path,
    *,
    scenario: str,
    levels: tuple[Level, ...],
    targets: tuple[str, ...] = ("fastapi-uvicorn",),
    warmup_s: float = 0.5,
    measure_s: float = 2.0,
    repeats: int = 1,
    params: dict[str, str] | None = None,
) -> RunOptions:
    """A one-scenario run with its own ladder, for tests that need a specific load."""
    profile = Profile(
        name="test",
        description="a test ladder",
        targets=targets,
        repeats=repeats,
        warmup_s=warmup_s,
        measure_s=measure_s,
        levels={scenario: levels},
        budget_s=120,
        max_seconds=150,
        params={scenario: params} if params else {},
    )
    t_cpus, l_cpus = default_cpus()
    return RunOptions(
        profile=profile,
        targets=tuple(default_registry().select(list(targets))),
        scenarios=select([scenario]),
        out_dir=tmp / "run",
        run_id=new_run_id(),
        database=resolve_database(f"sqlite:///{tmp / 'db.sqlite3'}"),
        repeats=repeats,
        target_cpus=t_cpus,
        loader_cpus=l_cpus,
        loader_workers=0,
        slo=DEFAULT_SLO,
        max_seconds=150,
        command=("pytest",),
        target_sources={},
        show_progress=False,
    )
