"""run/duet.py: two real runs at once, their windows together; a failing one is one line."""

from __future__ import annotations

import dataclasses
import json
import socket
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


def _children() -> set[str]:
    """Processes under this one, but multiprocessing's resource tracker (it lives as long as
    this process, to clean up the barrier's semaphores)."""
    out = set()
    for p in psutil.Process().children(recursive=True):
        try:
            line = " ".join(p.cmdline())
        except psutil.NoSuchProcess:
            continue
        if "resource_tracker" not in line:
            out.add(f"{p.pid} {line}")
    return out


def _pair(tmp: Path) -> list[RunOptions]:
    base = options(
        tmp, scenario="json", levels=(Level(None, rate=100),), warmup_s=1.0, measure_s=2.0
    )
    return [dataclasses.replace(base, out_dir=tmp / name, run_id=f"duet-{name}") for name in "ab"]


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_two_runs_measure_the_same_seconds(tmp_path: Path) -> None:
    before = _children()  # other tests' servers may live as long as this worker
    run_together(_pair(tmp_path), timeout_s=150)
    (a0, a1), (b0, b1) = _window(tmp_path / "a"), _window(tmp_path / "b")
    overlap = min(a1, b1) - max(a0, b0)
    # Their loads start at a barrier: the measured windows coincide (10 ms apart here), not
    # the several seconds two unsynchronised runs' start-up would put between them.
    assert overlap >= 0.8 * (a1 - a0)
    assert _children() - before == set()


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_failing_run_is_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    good, bad = _pair(tmp_path)
    with socket.socket() as taken:  # the failing run's upstream cannot have its port
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        bad = dataclasses.replace(bad, base_port=taken.getsockname()[1])
        before = _children()
        with pytest.raises(TwinbenchError) as err:
            run_together([good, bad], timeout_s=150)
    message = str(err.value)
    assert message.startswith("run duet-b: upstream") and "\n" not in message
    assert (tmp_path / "b" / "error.txt").read_text().startswith("Traceback")
    # The partner did not wait for it: it ran alone and finished.
    _window(tmp_path / "a")
    assert _children() - before == set()


def test_a_database_that_cannot_be_made_is_one_line_before_any_run(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    db = resolve_database(f"sqlite:///{tmp_path / 'a-file' / 'db.sqlite3'}")
    runs = [dataclasses.replace(o, database=db) for o in _pair(tmp_path)]
    with pytest.raises(TwinbenchError, match="cannot create"):
        run_together(runs, timeout_s=150)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
