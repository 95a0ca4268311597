"""Faults: a target killed mid-run, Ctrl-C, and a load generator driven past its capacity."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest
from runner_support import cli_args, options

from twinbench.define.profiles import Level
from twinbench.results.model import CellStatus, LoadModel, ReasonKind
from twinbench.results.store import load_run
from twinbench.run.runner import execute

pytestmark = pytest.mark.slow


def _wait_for(pred, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _cells(out: Path) -> int:
    path = out / "cells.jsonl"
    return len(path.read_text().splitlines()) if path.exists() else 0


@pytest.mark.timeout(240)
def test_target_killed_mid_cell(tmp_path: Path) -> None:
    args = cli_args(
        tmp_path,
        "--profile", "smoke", "--scenarios", "json,plaintext", "--repeats", "3",
        "--targets", "fastapi-uvicorn,flask-gunicorn-gevent", "--measure-s", "2.6",
    )  # fmt: skip
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = tmp_path / "run"
    try:
        _wait_for(lambda: _cells(out) >= 1, 120, "the first cell")
        # The next cell (gevent's) starts ~0.2 s after the first one's window: one second on,
        # its 2.6 s window is under way, so the kill lands mid-cell.
        time.sleep(1.0)
        runner = psutil.Process(proc.pid)
        masters = [
            p for p in runner.children(recursive=True)
            if "gunicorn" in " ".join(p.cmdline()) and p.ppid() == proc.pid
        ]  # fmt: skip
        assert len(masters) == 1
        os.killpg(os.getpgid(masters[0].pid), signal.SIGKILL)  # the server and its workers
        _, err = proc.communicate(timeout=200)
    finally:
        proc.kill()
    assert proc.returncode == 0, err[-2000:]
    run = load_run(out)
    assert run.complete and len(run.cells) == len(run.run.cells) == 12
    gevent = [c for c in run.cells if c.config.target == "flask-gunicorn-gevent"]
    failed = [c for c in gevent if c.status is CellStatus.FAILED]
    assert failed and all(c.reason.startswith("target-died") for c in failed)
    assert all(c.stderr_tail for c in failed)  # the dead server's last stderr lines
    # ... and the run went on: the restarted server was measured in later cells.
    last_failed = max(c.config.order for c in failed)
    later = [c for c in gevent if c.config.order > last_failed]
    assert later and all(c.status in (CellStatus.OK, CellStatus.INVALID) for c in later)
    assert (out / "logs" / "flask-gunicorn-gevent.w1.2.stderr.log").exists()


@pytest.mark.timeout(120)
def test_sigint_keeps_finished_cells_and_leaves_no_orphans(tmp_path: Path) -> None:
    args = cli_args(tmp_path, "--profile", "smoke", "--scenarios", "json,plaintext,db,queries")
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = tmp_path / "run"
    try:
        _wait_for(lambda: _cells(out) >= 2, 90, "two finished cells")
        children = psutil.Process(proc.pid).children(recursive=True)
        assert children  # servers, upstream, Locust
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err[-2000:]
    _, alive = psutil.wait_procs(children, timeout=10)
    assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE], alive
    run = load_run(out)
    assert not run.complete and len(run.cells) >= 2
    assert all(c.requests for c in run.cells)


@pytest.mark.timeout(150)
def test_overloaded_load_generator_is_invalid_and_never_capacity(tmp_path: Path) -> None:
    # 1 user is light work for Locust; 300 users on /plaintext saturate its one CPU.
    opts = options(
        tmp_path, scenario="plaintext", levels=(Level(users=1), Level(users=300)), measure_s=2.0
    )
    summary = execute(opts)
    run = load_run(opts.out_dir)
    heavy = next(c for c in run.cells if c.config.load_level == 2)
    assert heavy.config.model is LoadModel.STEP
    assert heavy.status is CellStatus.INVALID
    assert heavy.reason.startswith("load-generator-bound"), heavy.reason
    (cap,) = summary.capacities
    assert cap.load_level != 2
    row = next(
        m for m in run.metrics if m.cell_id == heavy.cell_id and m.metric == "loader_cpus_busy"
    )
    assert row.value is not None and row.value >= 0.9 and not row.valid


@pytest.mark.timeout(120)
def test_time_limit_skips_the_rest_and_completes(tmp_path: Path) -> None:
    done = subprocess.run(
        cli_args(tmp_path, "--profile", "smoke", "--scenarios", "json,plaintext,db",
                 "--targets", "fastapi-uvicorn", "--max-seconds", "4"),
        capture_output=True, text=True, timeout=100,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    run = load_run(tmp_path / "run")
    assert run.complete and run.summary is not None
    assert run.summary.stopped_early.startswith("time-limit")
    assert len(run.cells) == len(run.run.cells) == 3  # every cell accounted for
    skipped = [c for c in run.cells if c.status is CellStatus.SKIPPED]
    assert skipped and all(c.reason.startswith("time-limit") for c in skipped)


@pytest.mark.timeout(120)
def test_your_own_target_from_a_config_file(tmp_path: Path) -> None:
    config = tmp_path / "twinbench.toml"
    config.write_text(
        '[[target]]\nname = "my-api"\napp = "fastapi"\nserver = "uvicorn"\n'
        'command = ["{python}", "-m", "uvicorn", "--factory",'
        ' "twinbench.apps.fastapi_app:create_app",'
        ' "--host", "{host}", "--port", "{port}", "--no-access-log"]\n'
        'workers = 1\nunsupported = { websocket = "not tested here" }\n'
    )
    done = subprocess.run(
        cli_args(tmp_path, "--profile", "smoke", "--config", str(config),
                 "--targets", "my-api", "--scenarios", "json,ws_echo"),
        capture_output=True, text=True, timeout=100,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    run = load_run(tmp_path / "run")
    (target,) = run.run.targets
    assert target.source == str(config) and target.app == "fastapi"
    by_scenario = {c.config.scenario: c for c in run.cells}
    assert by_scenario["json"].status in (CellStatus.OK, CellStatus.INVALID)
    assert by_scenario["json"].requests[0].count > 0
    assert by_scenario["ws_echo"].status is CellStatus.UNSUPPORTED
    assert by_scenario["ws_echo"].reason == "not tested here"


@pytest.mark.timeout(120)
def test_distributed_loader_merges_workers(tmp_path: Path) -> None:
    done = subprocess.run(
        cli_args(tmp_path, "--profile", "smoke", "--targets", "fastapi-uvicorn",
                 "--scenarios", "json,upstream", "--loader-workers", "2"),
        capture_output=True, text=True, timeout=100,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    run = load_run(tmp_path / "run")
    assert run.run.loader_workers == 2
    for cell in run.cells:
        assert cell.loader_processes == 2 and cell.requests[0].count > 0, cell.cell_id
        assert cell.reason_kind is not ReasonKind.LOADER_LOST, cell.reason
        # each worker's own count, and together the merged total
        assert len(cell.loader_counts) == 2 and sum(cell.loader_counts) == cell.requests[0].count
    logs = {p.name for p in (tmp_path / "run" / "logs").iterdir()}
    assert {"locust-json-master.stderr.log", "locust-json-worker2.stderr.log"} <= logs


@pytest.mark.timeout(120)
def test_a_target_that_cannot_start_fails_its_cells_and_the_run_goes_on(tmp_path: Path) -> None:
    config = tmp_path / "twinbench.toml"
    config.write_text(
        '[[target]]\nname = "broken"\napp = "flask"\n'
        'command = ["{python}", "-c", "import sys; print(\'no such module: shop\', '
        'file=sys.stderr); sys.exit(3)", "{port}"]\n'
    )
    done = subprocess.run(
        cli_args(tmp_path, "--profile", "smoke", "--config", str(config),
                 "--targets", "broken,fastapi-uvicorn", "--scenarios", "json"),
        capture_output=True, text=True, timeout=100,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    run = load_run(tmp_path / "run")
    assert run.complete
    by_target = {c.config.target: c for c in run.cells}
    broken = by_target["broken"]
    assert broken.status is CellStatus.FAILED and broken.reason.startswith("start-failed")
    assert "no such module: shop" in broken.stderr_tail
    assert by_target["fastapi-uvicorn"].requests[0].count > 0  # the other target still ran
