"""run/duet.py: two real runs at once, their windows together; a failing one is one line."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import psutil
import pytest
from runner_support import options

from twinbench.define.profiles import Level
from twinbench.errors import TwinbenchError
from twinbench.run.database import resolve_database
from twinbench.run.duet import run_together
from twinbench.run.runner import RunOptions


def _window(folder: Path) -> tuple[int, int]:
    cell = json.loads((folder / "cells.jsonl").read_text().splitlines()[0])
    assert cell["status"] in ("ok", "invalid"), cell
    return cell["window"]["t_measure_start_ns"], cell["window"]["t_measure_end_ns"]


def _children() -> list[str]:
    """Processes left under this one, but multiprocessing's resource tracker (it lives as
    long as this process, to clean up the barrier's semaphores)."""
    out = []
    for p in psutil.Process().children(recursive=True):
        try:
            line = " ".join(p.cmdline())
        except psutil.NoSuchProcess:
            continue
        if "resource_tracker" not in line:
            out.append(line)
    return out


def _pair(tmp: Path) -> list[RunOptions]:
    base = options(
        tmp, scenario="json", levels=(Level(None, rate=100),), warmup_s=1.0, measure_s=2.0
    )
    return [dataclasses.replace(base, out_dir=tmp / name, run_id=f"duet-{name}") for name in "ab"]


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_two_runs_measure_the_same_seconds(tmp_path: Path) -> None:
    run_together(_pair(tmp_path), timeout_s=150)
    (a0, a1), (b0, b1) = _window(tmp_path / "a"), _window(tmp_path / "b")
    overlap = min(a1, b1) - max(a0, b0)
    # Their loads start at a barrier: the measured windows coincide (10 ms apart here), not
    # the several seconds two unsynchronised runs' start-up would put between them.
    assert overlap >= 0.8 * (a1 - a0)
    assert _children() == []


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_failing_run_is_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    good, bad = _pair(tmp_path)
    (tmp_path / "a-file").write_text("")
    bad = dataclasses.replace(
        bad, database=resolve_database(f"sqlite:///{tmp_path / 'a-file' / 'db.sqlite3'}")
    )
    with pytest.raises(TwinbenchError) as err:
        run_together([good, bad], timeout_s=150)
    message = str(err.value)
    assert message.startswith("run duet-b: cannot create") and "\n" not in message
    assert (tmp_path / "b" / "error.txt").read_text().startswith("Traceback")
    # The partner did not wait for it: it ran alone and finished.
    _window(tmp_path / "a")
    assert _children() == []
