"""What a cell counts is what the server answered inside its window, and everything runs on
the CPUs it was given.

The target is the test's own tiny server (tests/loadtests/tinyserver.py), declared in a
config file the way a team declares its own app, started with `--log-times`: it writes the
wall-clock time of every response it finishes. A cell's requests must then be exactly the
server's responses between the window's start and end (warm-up excluded, nothing lost), give
or take the few in flight at each edge. While the run goes on, a watcher thread reads the
CPU affinity of every process the runner started.
"""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import psutil
import pytest
from runner_support import cli_args

from twinbench.results.model import CellStatus
from twinbench.results.store import load_run

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
USERS = 4


def _watch(
    root: psutil.Process, stop: threading.Event, seen: dict[str, set[tuple[int, ...]]]
) -> None:
    """Affinity of every process the run started, by what it is (target, locust, upstream).
    Only the run's own descendants: other tests' servers may still be up in this session."""
    while not stop.is_set():
        try:
            children = root.children(recursive=True)
        except psutil.Error:
            return
        for proc in children:
            try:
                cmd = " ".join(proc.cmdline())
                cpus = tuple(sorted(proc.cpu_affinity() or ()))
            except (psutil.Error, OSError):
                continue
            if "twinbench.run.pin" in cmd:
                continue  # the launcher, before it execs the program
            kind = (
                "target" if "tinyserver.py" in cmd
                else "locust" if "locust" in cmd
                else "upstream" if "twinbench.apps.upstream" in cmd
                else ""
            )  # fmt: skip
            if kind:
                seen.setdefault(kind, set()).add(cpus)
        stop.wait(0.1)


@pytest.mark.timeout(200)
def test_counts_are_the_servers_answers_in_the_window_and_pinning_holds(tmp_path: Path) -> None:
    times = tmp_path / "times.log"
    config = tmp_path / "twinbench.toml"
    config.write_text(
        '[[target]]\nname = "tiny"\napp = "custom"\n'
        f'command = ["{{python}}", "{ROOT / "tests" / "loadtests" / "tinyserver.py"}", '
        f'"{{port}}", "--log-times", "{times}"]\n'
        'workers = 1\nunsupported = { websocket = "test server", sse = "test server" }\n'
    )
    args = cli_args(
        tmp_path, "--config", str(config), "--targets", "tiny", "--scenarios", "json,plaintext",
        "--users", str(USERS), "--repeats", "2", "--warmup-s", "0.5", "--measure-s", "1.4",
        "--target-cpus", "0", "--loader-cpus", "1",
    )  # fmt: skip
    seen: dict[str, set[tuple[int, ...]]] = {}
    stop = threading.Event()
    run_proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watcher = threading.Thread(
        target=_watch, args=(psutil.Process(run_proc.pid), stop, seen), daemon=True
    )
    watcher.start()
    try:
        _, err = run_proc.communicate(timeout=180)
    finally:
        stop.set()
        watcher.join(5)
        run_proc.kill()
    assert run_proc.returncode == 0, err[-2000:]
    # pinning: the target on CPU 0 only, Locust and the mock upstream on CPU 1 only
    assert seen.get("target") == {(0,)}, seen
    assert seen.get("locust") == {(1,)}, seen
    assert seen.get("upstream") == {(1,)}, seen

    answered: dict[str, list[int]] = {"/json": [], "/plaintext": []}
    for line in times.read_text().splitlines():
        ns, path = line.split()
        answered.setdefault(path, []).append(int(ns))
    run = load_run(tmp_path / "run")
    assert len(run.cells) == 4
    for cell in run.cells:
        assert cell.status in (CellStatus.OK, CellStatus.INVALID), cell.reason
        w = cell.window
        assert w is not None
        path = "/" + cell.config.scenario
        inside = sum(w.t_measure_start_ns <= t <= w.t_measure_end_ns for t in answered[path])
        before = sum(w.t_start_ns <= t < w.t_measure_start_ns for t in answered[path])
        counted = cell.requests[0].count
        assert before > 0  # the warm-up really sent requests ...
        # ... and none of them was counted: the cell holds the window's answers, less or more
        # only the few in flight at each edge (one per user).
        assert abs(counted - inside) <= 2 * USERS, (cell.cell_id, counted, inside)
        assert counted > 100
